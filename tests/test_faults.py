"""Faults at the tagging and gold level (issue 6): each case is tagged correctly or rejected
with a clear message naming the file; nothing crashes, nothing is half-loaded, offsets hold.

* bad input text given to the tagger (empty, full-width, Chinese numerals, NUL, HTML, 50,000
  characters without punctuation, numbers only, characters outside the BMP);
* broken gold files (``pipeline.annotation.gold.load_gold_file`` raises ``GoldError`` naming file and line);
* broken model directories (``ModelLoadError`` naming the file, at load time);
* disk full / unwritable output (``OutputError`` naming the path; the old file is untouched and
  no temporary file is left behind).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.annotation.gold import load_gold_dir, load_gold_file, write_gold
from pipeline.errors import GoldError, OutputError
from pipeline.io import atomic_write_bytes, atomic_write_text
from pipeline.records import SentenceRecord
from pipeline.rules.baseline import RulePredictor
from pipeline.tagging.tagger import TaggedDocument, Tagger

PLAN = "二、2024年工作安排\n"


def tag(text: str, suppress_review: bool = True) -> TaggedDocument:
    doc = Tagger(RulePredictor(), suppress_review=suppress_review)(text, "d")
    for rec in doc.sentences:  # offsets are sacred, whatever the input
        assert text[rec.start : rec.end] == rec.text
        for t in rec.targets:
            assert text[t.start : t.end] == t.text and rec.start <= t.start < t.end <= rec.end
    return doc


def found(doc: TaggedDocument) -> list[tuple[str, Any, str | None]]:
    return [(t.text, t.value, t.unit) for t in doc.targets()]


# --------------------------------------------------------------------------- bad input, tagging


def test_empty_and_whitespace_only() -> None:
    for text in ("", " \n\t\r\n\u3000\n", "\ufeff\n\u200b"):
        doc = tag(text)
        assert doc.sentences == [] and doc.targets() == []


def test_text_without_targets() -> None:
    doc = tag("各位代表：\n现在，我代表区人民政府向大会报告工作，请予审议。\n让我们团结一心，开拓进取！\n")
    assert len(doc.sentences) == 3 and doc.targets() == []


def test_fullwidth_digits_and_letters() -> None:
    text = PLAN + "社会消费品零售总额突破１４５０亿元，城镇新增就业４．６万人，ＧＤＰ增长５％左右。\n"
    doc = tag(text)
    assert found(doc) == [
        ("社会消费品零售总额突破１４５０亿元", 1450, "亿元"),
        ("城镇新增就业４．６万人", 4.6, "万人"),
        ("ＧＤＰ增长５％左右", 5, "%"),
    ]
    assert [t.bound for t in doc.targets()] == ["at_least", "exact", "about"]
    assert doc.targets()[2].direction == "up"


def test_chinese_numerals() -> None:
    doc = tag(PLAN + "新建两个产业园区，打造十二个示范社区。\n")
    assert found(doc) == [("新建两个产业园区", 2, "个"), ("打造十二个示范社区", 12, "个")]


def test_nul_and_control_characters() -> None:
    text = PLAN + "城镇新增就业4.6\x00万人，\x01社会消费品零售总额突破1450亿元\x7f。\n"
    doc = tag(text)
    # A control character reads as a space: the unit after it still counts, and a leading one is
    # not part of the span; the raw text (with the NUL) is what the offsets point into.
    assert found(doc) == [("城镇新增就业4.6\x00万人", 4.6, "万人"), ("社会消费品零售总额突破1450亿元", 1450, "亿元")]


def test_html_remnants_and_nbsp() -> None:
    text = (
        "<p>"
        + PLAN.strip()
        + "</p>\n<p>&nbsp;&nbsp;城镇新增就业4.6万人&nbsp;，社会消费品零售总额突破1450亿元。</p><br/>\n"
    )
    doc = tag(text)
    assert found(doc) == [("城镇新增就业4.6万人", 4.6, "万人"), ("社会消费品零售总额突破1450亿元", 1450, "亿元")]
    for rec in doc.sentences:
        assert "<p>" not in rec.text and not rec.text.startswith("&nbsp;")


def test_single_50000_character_line_rules() -> None:
    text = ("地区生产总值增长五个百分点新建产业园区5个" * 2500)[:50_000]
    t0 = time.perf_counter()
    doc = tag(text, suppress_review=False)
    assert time.perf_counter() - t0 < 20
    assert len(doc.sentences) == 1 and doc.sentences[0].end == 50_000


def test_only_numbers() -> None:
    doc = tag("1450\n4.6\n2024 2025\n3%\n１２３\n")
    assert doc.targets() == [], "a bare number names no indicator: not a target"


def test_characters_outside_the_bmp_round_trip(tmp_path: Path) -> None:
    text = PLAN + "𠮷新建𠮷产业园区5个，😀城镇新增就业4.6万人。\n"
    doc = tag(text)
    assert found(doc) == [("𠮷新建𠮷产业园区5个", 5, "个"), ("😀城镇新增就业4.6万人", 4.6, "万人")]
    # Offsets are code points: written and read back through the gold loader unchanged.
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "d.txt").write_text(text, encoding="utf-8", newline="")
    write_gold(doc.sentences, tmp_path / "gold" / "d.jsonl")
    back = load_gold_file(tmp_path / "gold" / "d.jsonl")
    assert [(t.start, t.end, t.text) for t in back.targets()] == [(t.start, t.end, t.text) for t in doc.targets()]


def test_overflowing_number_gives_no_value() -> None:
    doc = tag(PLAN + "城镇新增就业" + "9" * 400 + "万人，新建产业园区5个。\n")
    for t in doc.targets():
        assert t.value is None or t.value - t.value == 0, "never inf"
    json.dumps([r.to_json() for r in doc.sentences], allow_nan=False)


def test_lone_surrogate_rejected_on_write(tmp_path: Path) -> None:
    """Text decoded with surrogateescape tags fine but cannot be written: a clear OutputError."""
    text = PLAN + "新建产业园区5个\udcff。\n"
    doc = tag(text)
    assert found(doc) == [("新建产业园区5个\udcff", 5, "个")]
    out = tmp_path / "d.jsonl"
    with pytest.raises(OutputError, match=r"d\.jsonl.*cannot be encoded"):
        write_gold(doc.sentences, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- gold files

RAW = PLAN + "城镇新增就业4.6万人，社会消费品零售总额突破1450亿元。\n新建产业园区5个。\n"


def gold_lines() -> list[dict[str, Any]]:
    doc = tag(RAW)
    recs = [r.to_json() for r in doc.sentences]
    assert [len(r["targets"]) for r in recs] == [0, 2, 1]
    return recs


def write_lines(tmp_path: Path, lines: list[Any], name: str = "d") -> Path:
    (tmp_path / "raw").mkdir(exist_ok=True)
    (tmp_path / "raw" / "d.txt").write_text(RAW, encoding="utf-8")
    g = tmp_path / "gold" / f"{name}.jsonl"
    g.parent.mkdir(exist_ok=True)
    g.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines))
    return g


def test_valid_gold_loads(tmp_path: Path) -> None:
    doc = load_gold_file(write_lines(tmp_path, gold_lines()))
    assert len(doc.sentences) == 3 and len(doc.targets()) == 3


def _shift(recs: list[dict[str, Any]]) -> None:
    recs[1]["targets"][0]["start"] += 1


def _overlap(recs: list[dict[str, Any]]) -> None:
    a, b = recs[1]["targets"]
    b["start"] = a["end"] - 2
    b["text"] = RAW[b["start"] : b["end"]]


def _outside(recs: list[dict[str, Any]]) -> None:
    t = recs[2]["targets"][0]
    t["start"] -= 3
    t["text"] = RAW[t["start"] : t["end"]]


def _infinite(recs: list[dict[str, Any]]) -> None:
    recs[2]["targets"][0]["value"] = float("inf")  # json.dumps writes Infinity


@pytest.mark.parametrize(
    "mutate, line, message",
    [
        (_shift, 2, "record says"),
        (_overlap, 2, "overlaps target"),
        (lambda r: r[1]["targets"][1].update(category="财政"), 2, "unknown category '财政'"),
        (lambda r: r[0].update(category="Finance"), 1, "unknown category 'Finance'"),
        (_outside, 3, "lies outside its sentence"),
        (lambda r: r[2]["targets"][0].update(bound="more"), 3, "unknown bound"),
        (_infinite, 3, "value must be a number, got inf"),
        (lambda r: r[2].pop("category"), 3, "missing field"),
        (lambda r: r[2].update(end=10_000), 3, "bad sentence offsets"),
        (lambda r: r[2].update(start=r[1]["start"]), 3, "overlaps or precedes"),
    ],
)
def test_bad_gold_rejected_naming_file_and_line(tmp_path: Path, mutate: Any, line: int, message: str) -> None:
    recs = gold_lines()
    mutate(recs)
    p = write_lines(tmp_path, recs)
    with pytest.raises(GoldError) as err:
        load_gold_file(p)
    assert f"{p}:{line}: " in str(err.value) and message in str(err.value), str(err.value)


@pytest.mark.parametrize(
    "broken, line, message",
    [
        ('{"doc_id": "d", "sent_id": 1,', 2, "malformed JSON"),
        ("[1, 2]", 2, "a record must be a JSON object"),
        ("not json at all", 2, "malformed JSON"),
    ],
)
def test_bad_json_rejected(tmp_path: Path, broken: str, line: int, message: str) -> None:
    recs: list[Any] = gold_lines()
    recs[1] = broken
    p = write_lines(tmp_path, recs)
    with pytest.raises(GoldError, match=rf"{p.name}:{line}: {message}"):
        load_gold_file(p)


def test_gold_not_utf8_or_empty(tmp_path: Path) -> None:
    p = write_lines(tmp_path, gold_lines())
    p.write_bytes(p.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(GoldError, match="not UTF-8"):
        load_gold_file(p)
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(GoldError, match="empty gold file"):
        load_gold_file(p)


def test_gold_dir_is_all_or_nothing(tmp_path: Path) -> None:
    """One bad file in a folder: the whole load fails (naming it), good files are not returned."""
    good = gold_lines()
    write_lines(tmp_path, good, name="a-good")
    bad = gold_lines()
    _shift(bad)
    p = write_lines(tmp_path, bad, name="b-bad")
    with pytest.raises(GoldError, match=str(p)):
        load_gold_dir(tmp_path / "gold")


# --------------------------------------------------------------------------- model directories


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers import make_tiny_model

    # A 512-token window: the 50,000-character line below needs about a hundred windows.
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", max_length=512, stride=64)


@pytest.fixture
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_model, tmp_path / "model"))


def _load(folder: Path) -> Any:
    from pipeline.model.load import load_predictor

    return load_predictor(folder)


def _rejected(folder: Path, file: str, message: str) -> str:
    from pipeline.errors import ModelLoadError

    with pytest.raises(ModelLoadError) as err:
        _load(folder)
    assert str(folder / file) in str(err.value) and message in str(err.value), str(err.value)
    with pytest.raises(ModelLoadError):  # the CLI path goes through Tagger.load
        Tagger.load(folder)
    return str(err.value)


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "govtarget.json").read_text(encoding="utf-8"))


def _set_meta(folder: Path, meta: dict[str, Any]) -> None:
    (folder / "govtarget.json").write_text(json.dumps(meta), encoding="utf-8")


def test_intact_model_loads_and_tags(model_copy: Path) -> None:
    doc = Tagger.load(model_copy, suppress_review=False)(RAW, "d")
    assert len(doc.sentences) == 3


def test_model_missing_weights(model_copy: Path) -> None:
    (model_copy / "model.safetensors").unlink()
    _rejected(model_copy, "model.safetensors", "missing")


def test_model_truncated_weights(model_copy: Path) -> None:
    w = model_copy / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    _rejected(model_copy, "model.safetensors", "corrupted")
    # Without the recorded hash, the safetensors reader itself must refuse the cut file.
    meta = _meta(model_copy)
    meta["files_sha256"].pop("model.safetensors")
    _set_meta(model_copy, meta)
    _rejected(model_copy, "model.safetensors", "corrupted")


def test_model_missing_or_garbled_meta(model_copy: Path) -> None:
    meta = model_copy / "govtarget.json"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text[: len(text) // 2], encoding="utf-8")
    _rejected(model_copy, "govtarget.json", "corrupted")
    meta.write_text("[1, 2]", encoding="utf-8")
    _rejected(model_copy, "govtarget.json", "not a JSON object")
    meta.unlink()
    _rejected(model_copy, "govtarget.json", "missing")


def test_model_other_schema_version(model_copy: Path) -> None:
    meta = _meta(model_copy)
    meta["schema_version"] = meta["schema_version"] + 1
    _set_meta(model_copy, meta)
    _rejected(model_copy, "govtarget.json", "schema version")


def test_model_label_map_differs_from_schema(model_copy: Path) -> None:
    meta = _meta(model_copy)
    meta["categories"] = list(reversed(meta["categories"]))
    _set_meta(model_copy, meta)
    _rejected(model_copy, "govtarget.json", "category label map")


def test_model_weights_do_not_match_label_map(model_copy: Path) -> None:
    """Heads saved for another label set (one category fewer): refused, not silently misread."""
    from safetensors.torch import load_file, save_file

    from pipeline.io import sha256_file

    w = model_copy / "model.safetensors"
    state = load_file(str(w))
    state["sentence_head.weight"] = state["sentence_head.weight"][:-1].contiguous()
    state["sentence_head.bias"] = state["sentence_head.bias"][:-1].contiguous()
    save_file(state, str(w), metadata={"format": "pt"})
    meta = _meta(model_copy)
    meta["files_sha256"]["model.safetensors"] = sha256_file(w)  # a consistent, wrong model
    _set_meta(model_copy, meta)
    _rejected(model_copy, "model.safetensors", "do not match the label maps")


def test_model_garbled_config_and_missing_vocab(model_copy: Path) -> None:
    meta = _meta(model_copy)
    meta.pop("files_sha256")  # reach the config reader itself
    _set_meta(model_copy, meta)
    (model_copy / "config.json").write_text("{garbled", encoding="utf-8")
    _rejected(model_copy, "config.json", "unreadable")
    (model_copy / "vocab.txt").unlink()
    _rejected(model_copy, "vocab.txt", "missing")


def test_model_not_a_directory(tmp_path: Path) -> None:
    from pipeline.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="not a model directory"):
        _load(tmp_path / "nowhere")


@pytest.mark.parametrize("command", ["tag", "batch"])
def test_cli_broken_model_is_an_error_not_a_traceback(
    model_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    from pipeline.cli import main

    (model_copy / "model.safetensors").write_bytes(b"cut")
    src = tmp_path / "in" / "a.txt"
    src.parent.mkdir()
    src.write_text(RAW, encoding="utf-8")
    out = tmp_path / "out"
    argv = [command, str(src), "--model", str(model_copy)] + (
        ["--out", str(out), "--quiet"] if command == "batch" else []
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(model_copy / "model.safetensors") in err and "Traceback" not in err
    written = [f.name for f in out.iterdir()] if out.exists() else []
    assert not [n for n in written if n.startswith("a.") or n in ("summary.json", "targets.csv")], written


@pytest.mark.slow
def test_single_50000_character_line_model(tiny_model: Path) -> None:
    """Longer than any window: tagged through overlapping windows, nothing truncated."""
    text = ("地区生产总值增长五个百分点新建产业园区5个" * 2500)[:50_000]
    tagger = Tagger.load(tiny_model, suppress_review=False)
    doc = tagger(text, "d")
    assert len(doc.sentences) == 1
    for t in doc.targets():
        assert text[t.start : t.end] == t.text
    from pipeline.predict import SentenceInput

    assert len(tagger.predictor.encode_inputs([SentenceInput(text)])[0].windows) > 50


# --------------------------------------------------------------------------- disk full, unwritable

OLD = "旧的内容，不可损坏。\n".encode()


def _setup_old(tmp_path: Path) -> Path:
    p = tmp_path / "out" / "d.jsonl"
    p.parent.mkdir()
    p.write_bytes(OLD)
    return p


def _intact(p: Path) -> None:
    assert p.read_bytes() == OLD, "the file already there is byte-identical"
    assert [f.name for f in p.parent.iterdir()] == [p.name], "no temporary file left behind"


def _writers(p: Path) -> list[Any]:
    recs = [SentenceRecord("d", 0, 0, 4, "新建5个", "产业")]
    return [
        lambda: atomic_write_text(p, "新的内容\n"),
        lambda: atomic_write_bytes(p, b"new"),
        lambda: write_gold(recs, p),
    ]


def _enospc(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "tempfile.mkstemp"])
def test_disk_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    p = _setup_old(tmp_path)
    module, name = where.split(".")
    monkeypatch.setattr(__import__(module), name, _enospc)
    for write in _writers(p):
        with pytest.raises(OutputError, match=rf"{p}: cannot write \(No space left on device\)"):
            write()
        _intact(p)


def test_disk_full_in_the_middle_of_a_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the bytes reach the temporary file, then ENOSPC: the temp file is removed."""
    p = _setup_old(tmp_path)
    real_fdopen = os.fdopen

    class HalfFile:
        def __init__(self, fd: int, *a: Any, **k: Any) -> None:
            self.f = real_fdopen(fd, *a, **k)

        def __enter__(self) -> HalfFile:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.f.close()

        def write(self, data: bytes) -> int:
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            _enospc()
            return 0

    monkeypatch.setattr(os, "fdopen", HalfFile)
    for write in _writers(p):
        with pytest.raises(OutputError, match=str(p)):
            write()
        _intact(p)


def test_read_only_directory(tmp_path: Path) -> None:
    p = _setup_old(tmp_path)
    os.chmod(p.parent, 0o555)
    try:
        probe = p.parent / "probe"
        try:
            probe.write_bytes(b"")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("running with privileges that ignore file permissions")
        for write in _writers(p):
            with pytest.raises(OutputError, match=rf"{p}: cannot write"):
                write()
            _intact(p)
    finally:
        os.chmod(p.parent, 0o755)


def test_output_path_is_a_directory(tmp_path: Path) -> None:
    p = tmp_path / "out" / "d.jsonl"
    p.mkdir(parents=True)
    for write in _writers(p):
        with pytest.raises(OutputError, match=str(p)):
            write()
        assert p.is_dir() and list(p.parent.iterdir()) == [p]


# --------------------------------------------------------------------------- resume invalidation


class RulesV2(RulePredictor):
    name = "rules-v2"  # stands for a retrained model: another model hash in the fingerprint


def test_resume_redoes_what_a_changed_model_config_or_output_invalidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.tagging import batch
    from pipeline.tagging.batch import BatchConfig, run_batch

    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"r{i}.txt").write_text(RAW.replace("5个", f"{i + 5}个"), encoding="utf-8")
    out = tmp_path / "out"

    def run(predictor: RulePredictor, cfg: BatchConfig | None = None) -> list[str]:
        cfg = cfg or BatchConfig()
        tagger = Tagger(predictor, suppress_review=cfg.suppress_review)
        return sorted(r.status for r in run_batch([src], out, cfg, tagger=tagger, progress=False).results)

    assert run(RulePredictor()) == ["ok"] * 3
    assert run(RulePredictor()) == ["skipped"] * 3, "unchanged: nothing redone"
    assert run(RulesV2()) == ["ok"] * 3, "another model: everything redone"
    assert run(RulesV2(), BatchConfig(suppress_review=False)) == ["ok"] * 3, "another configuration"
    assert run(RulesV2(), BatchConfig(suppress_review=False, batch_size=3, chunk_chars=10)) == ["skipped"] * 3, (
        "batch size and chunking change speed, not output"
    )
    (out / "r1.jsonl").write_text("edited by hand\n", encoding="utf-8")
    assert run(RulesV2(), BatchConfig(suppress_review=False)) == ["ok", "skipped", "skipped"], "an edited output"
    assert (out / "r1.jsonl").read_text(encoding="utf-8").startswith('{"doc_id": "r1"')
    monkeypatch.setattr(batch, "code_hash", lambda: "changed-code")  # e.g. an edited pipeline/rules/baseline.py
    assert run(RulesV2(), BatchConfig(suppress_review=False)) == ["ok"] * 3, "changed code"


# --------------------------------------------------------------------------- gold fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10_000) | st.floats() | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
    max_leaves=5,
)
GOLD_KEYS = ["doc_id", "sent_id", "start", "end", "text", "category", "targets"]
TARGET_KEYS = ["start", "end", "text", "category", "value", "unit", "bound", "direction", "value_max"]


@settings(max_examples=min(150, settings().max_examples))
@given(
    st.integers(0, 2),
    st.booleans(),
    st.sampled_from(GOLD_KEYS),
    st.sampled_from(TARGET_KEYS),
    json_values,
    st.booleans(),
)
def test_any_field_damage_is_a_gold_error(
    rec_no: int, in_target: bool, key: str, tkey: str, value: Any, delete: bool
) -> None:
    """Whatever one field is changed to (or if it is deleted), loading either succeeds with
    valid offsets or raises GoldError: never TypeError, KeyError or a half-loaded document."""
    import tempfile

    recs = gold_lines()
    target = recs[rec_no]["targets"][0] if in_target and recs[rec_no]["targets"] else None
    obj, k = (target, tkey) if target is not None else (recs[rec_no], key)
    if delete:
        obj.pop(k, None)
    else:
        obj[k] = value
    with tempfile.TemporaryDirectory() as tmp:
        p = write_lines(Path(tmp), recs)
        try:
            doc = load_gold_file(p)
        except GoldError as e:
            assert str(p) in str(e)
            return
    for s in doc.sentences:
        assert doc.raw[s.start : s.end] == s.text
        for t in s.targets:
            assert doc.raw[t.start : t.end] == t.text


@pytest.mark.parametrize(
    "where, fail_at", [("replace", 1), ("replace", 2), ("replace", 4), ("fsync", 1), ("fsync", 2), ("fsync", 5)]
)
def test_disk_full_mid_batch_loses_nothing_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, fail_at: int
) -> None:
    """ENOSPC on the n-th file replacement or fsync of a batch run (document outputs, manifest
    journal lines): the run stops with OutputError, every output the manifest lists is complete,
    and a rerun finishes to exactly the outputs of an undisturbed run."""
    from pipeline.tagging.batch import BatchConfig, load_manifest, run_batch

    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        (src / f"r{i}.txt").write_text(RAW.replace("5个", f"{i + 5}个"), encoding="utf-8")
    cfg = BatchConfig(chunk_chars=1)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_batch([src], ref, cfg, tagger=Tagger(RulePredictor()), progress=False)

    real, calls = getattr(os, where), [0]

    def failing(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == fail_at:
            _enospc()
        return real(*args)

    monkeypatch.setattr(os, where, failing)
    with pytest.raises(OutputError, match="No space left on device"):
        run_batch([src], out, cfg, tagger=Tagger(RulePredictor()), progress=False)
    monkeypatch.setattr(os, where, real)
    assert not [f for f in out.iterdir() if f.name.endswith(".tmp")], "no temporary file left"
    for entry in load_manifest(out).values():  # whatever the manifest calls done is complete
        if entry.get("status") == "ok":
            assert (out / entry["output"]).read_bytes() == (ref / entry["output"]).read_bytes()
    run_batch([src], out, cfg, tagger=Tagger(RulePredictor()), progress=False)
    outputs = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "summary.json"}
    assert outputs == {p.name: p.read_bytes() for p in sorted(ref.iterdir()) if p.name != "summary.json"}
