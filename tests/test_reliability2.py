"""Reliability, second round (issue 13): what a careless user does may not destroy data, block a
batch, or give a silently wrong number. Each test names the defect it pins down."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from test_batch import REPORT, FakePredictor

from pipeline.io import atomic_write_text
from pipeline.tagging.batch import (
    LOCK,
    MANIFEST,
    BatchBusy,
    BatchConfig,
    BatchRefused,
    folder_lock,
    load_manifest,
    run_batch,
)
from pipeline.tagging.tagger import Tagger
from pipeline.text.reader import ReadError, read_report

GOLD_LINE = (
    json.dumps(
        {"doc_id": "r", "sent_id": 0, "start": 0, "end": 4, "text": "各位代表", "category": "综合", "targets": []},
        ensure_ascii=False,
    )
    + "\n"
)


def _tagger() -> Tagger:
    return Tagger(FakePredictor())


def _src(tmp_path: Path, names: tuple[str, ...] = ("r",)) -> Path:
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    for n in names:
        (src / f"{n}.txt").write_text(REPORT, encoding="utf-8")
    return src


def _cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=ROOT,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- 1. batch into a gold folder ----------------------------------------------------------------


def test_batch_refuses_a_folder_of_gold_files(tmp_path: Path) -> None:
    """`batch data/raw --out data/gold` overwrote the hand-annotated gold file with predictions."""
    src = _src(tmp_path)
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "r.jsonl").write_text(GOLD_LINE, encoding="utf-8")
    before = _snapshot(gold)
    with pytest.raises(BatchRefused, match=r"r\.jsonl.*--force"):
        run_batch([src], gold, tagger=_tagger(), progress=False)
    assert _snapshot(gold) == before, "nothing written, nothing replaced"
    p = _cli("batch", "--quiet", "--model", "rules", "--out", str(gold), str(src))
    assert p.returncode == 2 and p.stderr.startswith("error:") and "r.jsonl" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and _snapshot(gold) == before


def test_batch_force_writes_beside_foreign_files_never_over_them(tmp_path: Path) -> None:
    src = _src(tmp_path, ("r", "s"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.jsonl").write_text(GOLD_LINE, encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    s = run_batch([src], out, tagger=_tagger(), progress=False, force=True)
    assert [r.status for r in s.results] == ["ok", "ok"]
    assert (out / "r.jsonl").read_text(encoding="utf-8") == GOLD_LINE
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    outputs = sorted(e["output"] for e in load_manifest(out).values())
    assert "r.jsonl" not in outputs and "s.jsonl" in outputs and outputs[0].startswith("r-")
    # the folder now is a batch folder with two foreign files: a rerun needs --force again, and skips
    with pytest.raises(BatchRefused):
        run_batch([src], out, tagger=_tagger(), progress=False)
    s = run_batch([src], out, tagger=_tagger(), progress=False, force=True)
    assert [r.status for r in s.results] == ["skipped", "skipped"]


def test_batch_refuses_foreign_summary_even_with_force(tmp_path: Path) -> None:
    src = _src(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BatchRefused, match="summary.json"):
        run_batch([src], out, tagger=_tagger(), progress=False, force=True)
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"


def test_batch_refuses_a_standoff_gold_folder(tmp_path: Path) -> None:
    src = _src(tmp_path)
    out = tmp_path / "gold"
    (out / "standoff").mkdir(parents=True)
    (out / "standoff" / "x.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(BatchRefused, match="standoff"):
        run_batch([src], out, tagger=_tagger(), progress=False)


def test_batch_owns_what_it_wrote_and_rewrites_only_that(tmp_path: Path) -> None:
    """Its own outputs stay writable on reruns (a tampered one is redone, not refused)."""
    src = _src(tmp_path)
    out = tmp_path / "out"
    run_batch([src], out, tagger=_tagger(), progress=False)
    (out / "r.jsonl").write_text("tampered\n", encoding="utf-8")
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [(r.status, r.reason) for r in s.results] == [("ok", "output missing or modified")]


@pytest.mark.parametrize("where", ["same", "inside", "contains", "file-folder"])
def test_batch_never_writes_into_the_input_tree(tmp_path: Path, where: str) -> None:
    """`--out` equal to the input folder tagged nothing and exited 0."""
    src = _src(tmp_path)
    inputs, out = {
        "same": ([src], src),
        "inside": ([src], src / "out"),
        "contains": ([src], tmp_path),
        "file-folder": ([src / "r.txt"], src),
    }[where]
    before = _snapshot(tmp_path)
    with pytest.raises(BatchRefused, match="input"):
        run_batch(inputs, out, tagger=_tagger(), progress=False)
    assert _snapshot(tmp_path) == before and not (src / "out").exists()


def test_cli_out_equal_to_input_is_an_error(tmp_path: Path) -> None:
    src = _src(tmp_path)
    p = _cli("batch", "--quiet", "--model", "rules", "--out", str(src), str(src))
    assert p.returncode == 2 and "error:" in p.stderr and "input" in p.stderr and "Traceback" not in p.stderr


# --- 2./3. file names ---------------------------------------------------------------------------


def test_long_file_name_does_not_stop_the_batch(tmp_path: Path) -> None:
    """80 Chinese characters (240 bytes) made the temporary name exceed 255 bytes: exit 2, every rerun."""
    long = "关于二〇二五年国民经济和社会发展计划执行情况与二〇二六年计划草案的报告" * 3
    long = long[:80]
    src = _src(tmp_path, (long, "zz-after"))
    out = tmp_path / "out"
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [r.status for r in s.results] == ["ok", "ok"]
    names = [p.name for p in out.iterdir()]
    assert all(len(os.fsencode(n)) <= 255 for n in names)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["documents"]["ok"] == 2 and (out / "targets.csv").exists()
    e = next(e for e in load_manifest(out).values() if e["doc_id"] == long)
    assert len(os.fsencode(e["output"])) <= 130 and e["output"].startswith(long[:20])
    assert [r.status for r in run_batch([src], out, tagger=_tagger(), progress=False).results] == ["skipped"] * 2


def test_atomic_write_of_a_255_byte_name(tmp_path: Path) -> None:
    name = "a" * 251 + ".txt"
    atomic_write_text(tmp_path / name, "x")
    assert (tmp_path / name).read_text(encoding="utf-8") == "x"


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """GBK bytes in a name (unzipping a Windows archive) made summary.json unwritable on every run."""
    src = tmp_path / "in"
    src.mkdir()
    raw_name = "政府工作报告".encode("gbk") + b".txt"
    try:
        (src / os.fsdecode(raw_name)).write_text(REPORT, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this filesystem does not take non-UTF-8 names")
    (src / "\udcff\udcfe.txt").write_text(REPORT, encoding="utf-8")  # not GB18030 either
    out = tmp_path / "out"
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [r.status for r in s.results] == ["ok", "ok"]
    summary = json.loads((out / "summary.json").read_bytes().decode("utf-8"))
    ids = sorted(d["doc_id"] for d in summary["documents_detail"])
    assert "政府工作报告" in ids and "\\xff\\xfe" in ids
    rows = list(csv.DictReader(io.StringIO((out / "targets.csv").read_bytes().decode("utf-8-sig"))))
    assert rows and {r["doc_id"] for r in rows} == set(ids)
    for e in load_manifest(out).values():  # outputs are UTF-8 names, records valid UTF-8
        (out / e["output"]).read_bytes().decode("utf-8")
        e["output"].encode("utf-8")
    assert [r.status for r in run_batch([src], out, tagger=_tagger(), progress=False).results] == ["skipped"] * 2


def test_unsafe_characters_and_case_collisions_get_distinct_names(tmp_path: Path) -> None:
    src = _src(tmp_path, ("a:b", "a_b", "Rep", "rep", "-x", "a\\nb"))
    out = tmp_path / "out"
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert all(r.status == "ok" for r in s.results)
    outs = [e["output"] for e in load_manifest(out).values()]
    assert len({o.casefold() for o in outs}) == 6
    assert not any(c in o for o in outs for c in ':\\"')


# --- 4. one run per folder ----------------------------------------------------------------------


def test_second_run_into_a_locked_folder_stops_cleanly(tmp_path: Path) -> None:
    """Two runs into one folder lost manifest entries; one's temp cleanup deleted the other's files."""
    src = _src(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock(out):
        with pytest.raises(BatchBusy, match=r"another batch run.*--wait"):
            run_batch([src], out, tagger=_tagger(), progress=False)
        (out / ".r.jsonl.abc123.tmp").write_bytes(b"the other run's temp file")
        with pytest.raises(BatchBusy):
            run_batch([src], out, tagger=_tagger(), progress=False)
        assert (out / ".r.jsonl.abc123.tmp").exists(), "never cleaned while another run holds the folder"
        assert not (out / MANIFEST).exists()
        p = _cli("batch", "--quiet", "--model", "rules", "--out", str(out), str(src))
        assert p.returncode == 2 and "another batch run" in p.stderr and "Traceback" not in p.stderr
    assert run_batch([src], out, tagger=_tagger(), progress=False).results[0].status == "ok"


def test_wait_waits_for_the_other_run(tmp_path: Path) -> None:
    src = _src(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    released = threading.Event()

    def hold() -> None:
        with folder_lock(out):
            time.sleep(1.0)
            released.set()

    t = threading.Thread(target=hold)
    t.start()
    time.sleep(0.2)
    s = run_batch([src], out, tagger=_tagger(), progress=False, wait=True)
    assert released.is_set() and s.results[0].status == "ok"
    t.join()


def test_concurrent_runs_with_wait_keep_every_entry(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    for d, names in ((a, [f"a{i}" for i in range(10)]), (b, [f"b{i}" for i in range(11)])):
        d.mkdir()
        for n in names:
            (d / f"{n}.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    errors: list[BaseException] = []

    def go(src: Path) -> None:
        try:
            run_batch([src], out, BatchConfig(chunk_chars=1), tagger=_tagger(), progress=False, wait=True)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=go, args=(d,)) for d in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert len(load_manifest(out)) == 21
    assert len([p for p in out.glob("*.jsonl")]) == 21


def test_lock_file_is_not_an_output(tmp_path: Path) -> None:
    src = _src(tmp_path)
    out = tmp_path / "out"
    run_batch([src], out, tagger=_tagger(), progress=False)
    assert (out / LOCK).exists()
    assert run_batch([src], out, tagger=_tagger(), progress=False).results[0].status == "skipped"


# --- 8. inputs that are not reports -------------------------------------------------------------


def test_fifo_refused_by_name_without_reading(tmp_path: Path) -> None:
    """A FIFO given directly hung the run."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    with pytest.raises(ReadError, match=r"pipe\.txt.*FIFO"):
        read_report(fifo)
    src = _src(tmp_path)
    os.mkfifo(src / "pipe2.txt")
    s = run_batch([src, fifo], tmp_path / "out", tagger=_tagger(), progress=False)
    assert time.perf_counter() - t0 < 30
    by = {r.source: r for r in s.results}
    assert by[str(fifo)].status == "failed" and "FIFO" in by[str(fifo)].reason
    assert by[str(src / "pipe2.txt")].status == "failed" and by[str(src / "r.txt")].status == "ok"


def test_fifo_as_gold_or_prediction_file_is_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO named ``*.jsonl`` in a gold or prediction folder blocked evaluation (opening it waits
    for a writer); it is now refused by name, like a report input."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    from pipeline.annotation.gold import load_gold_dir
    from pipeline.errors import GoldError
    from pipeline.evaluation.evalrun import load_predictions

    for name in ("gold", "pred"):
        (tmp_path / name).mkdir()
        os.mkfifo(tmp_path / name / "pipe.jsonl")
    t0 = time.perf_counter()
    with pytest.raises(GoldError, match=r"pipe\.jsonl.*FIFO"):
        load_gold_dir(tmp_path / "gold")
    with pytest.raises(ValueError, match=r"pipe\.jsonl.*FIFO"):
        load_predictions(tmp_path / "pred")
    assert time.perf_counter() - t0 < 30


def test_device_refused_by_name_without_reading(tmp_path: Path) -> None:
    """`/dev/zero` given directly ate memory."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(ReadError, match=r"/dev/zero.*device"):
        read_report("/dev/zero")
    p = _cli("tag", "--model", "rules", "/dev/zero", timeout=60)
    assert p.returncode != 0 and "/dev/zero" in p.stderr and "Traceback" not in p.stderr


def test_document_size_limit(tmp_path: Path) -> None:
    src = _src(tmp_path, ("small",))
    (src / "big.txt").write_text(REPORT * 50, encoding="utf-8")
    with pytest.raises(ReadError, match=r"big\.txt.*limit of 1,000 bytes"):
        read_report(src / "big.txt", max_bytes=1000)
    s = run_batch([src], tmp_path / "out", BatchConfig(max_bytes=1000), tagger=_tagger(), progress=False)
    by = {Path(r.source).name: r for r in s.results}
    assert by["big.txt"].status == "failed" and "limit" in by["big.txt"].reason
    assert by["small.txt"].status == "ok"
    p = _cli("batch", "--quiet", "--model", "rules", "--max-bytes", "1000", "--out", str(tmp_path / "o2"), str(src))
    assert p.returncode == 1 and "big.txt" in p.stderr and "limit" in p.stderr


def test_empty_input_folder_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("not a report", encoding="utf-8")
    s = run_batch([empty], tmp_path / "out", tagger=_tagger(), progress=False)
    assert [(r.status, r.reason) for r in s.results] == [
        ("failed", "no reports (.txt, .docx, .pdf, .html, .htm, .shtml) in this folder")
    ]
    p = _cli("batch", "--quiet", "--model", "rules", "--out", str(tmp_path / "o2"), str(empty))
    assert p.returncode == 1 and "no reports (.txt, .docx" in p.stderr


@pytest.mark.parametrize("bad", ["-1", "0", "x"])
def test_bad_threads_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    src = _src(tmp_path)
    p = _cli("batch", "--quiet", "--threads", bad, "--out", str(tmp_path / "o"), str(src))
    assert p.returncode == 2 and "--threads" in p.stderr and "Traceback" not in p.stderr


def test_outputs_respect_the_umask(tmp_path: Path) -> None:
    """Outputs were created 0600 whatever the umask."""
    src = _src(tmp_path)
    old = os.umask(0o022)
    try:
        run_batch([src], tmp_path / "out", tagger=_tagger(), progress=False)
        atomic_write_text(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    for f in [tmp_path / "x.txt", *(p for p in (tmp_path / "out").iterdir() if not p.name.startswith("."))]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
    (tmp_path / "x.txt").chmod(0o640)  # an existing file keeps its mode when replaced
    atomic_write_text(tmp_path / "x.txt", "y")
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o640


# --- 5. identity hashes: the tokenizer ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_properties import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny2") / "model")


def _shuffle_tokenizer_ids(folder: Path, *, fix_sha: bool) -> None:
    """Swap the ids of two ordinary tokens in tokenizer.json (vocab.txt untouched)."""
    import hashlib

    p = folder / "tokenizer.json"
    tj = json.loads(p.read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    a, b = [t for t, i in sorted(vocab.items(), key=lambda kv: kv[1]) if not t.startswith("[")][10:12]
    vocab[a], vocab[b] = vocab[b], vocab[a]
    p.write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    if fix_sha:  # as in models saved before tokenizer.json was hashed: no recorded digest to catch it
        meta = json.loads((folder / "govtarget.json").read_text(encoding="utf-8"))
        meta["files_sha256"].pop("tokenizer.json", None)
        (folder / "govtarget.json").write_text(json.dumps(meta), encoding="utf-8")
        assert hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("fix_sha", [False, True])
def test_edited_tokenizer_is_refused_and_changes_the_resume_key(
    tiny_model: Path, tmp_path: Path, fix_sha: bool
) -> None:
    """Shuffled ids in tokenizer.json loaded silently (25 of 249 sentence categories changed)."""
    import shutil

    from pipeline.model.modeling import ModelLoadError, load_model_dir
    from pipeline.tagging.batch import model_hash

    m = Path(shutil.copytree(tiny_model, tmp_path / "m"))
    meta = json.loads((m / "govtarget.json").read_text(encoding="utf-8"))
    assert "tokenizer.json" in meta["files_sha256"], "new models record the tokenizer's sha256"
    before = model_hash(str(m))
    _shuffle_tokenizer_ids(m, fix_sha=fix_sha)
    assert model_hash(str(m)) != before, "the batch resume key covers tokenizer.json"
    with pytest.raises(ModelLoadError, match=r"tokenizer\.json"):
        load_model_dir(m, load_weights=False)


def test_shipped_model_tokenizer_matches_its_vocab() -> None:
    from pipeline.model.modeling import load_model_dir

    _, tok, _ = load_model_dir(ROOT / "models" / "default", load_weights=False)
    assert len(tok) > 1000


def test_resume_key_covers_encoding_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing pipeline/model/encoding.py left finished outputs 'unchanged'."""
    from pipeline.tagging import batch

    before = batch.code_hash()
    real = Path.read_bytes

    def edited(self: Path) -> bytes:
        data = real(self)
        return data + b"\n# edited\n" if self.name == "encoding.py" else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert batch.code_hash() != before


# --- 6. numbers: property over generated targets ------------------------------------------------

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.fields.parse import parse_fields  # noqa: E402
from pipeline.rules.baseline import find_target_spans  # noqa: E402

_FULL = str.maketrans("0123456789.", "０１２３４５６７８９．")
_INDICATORS = [
    "地区生产总值增长",
    "城镇新增就业",
    "社会消费品零售总额",
    "新建改造道路",
    "粮食产量稳定在",
    "規模以上工業增加值增長",
]
#: written unit → whether a Chinese numeral may stand before it (a measure word or magnitude unit)
_UNITS = {
    "%": False,
    "％": False,
    "个百分点": False,
    "個百分點": False,
    "亿元": True,
    "億元": True,
    "万元": True,
    "萬元": True,
    "万人": True,
    "萬人": True,
    "个": True,
    "個": True,
    "家": True,
    "项": True,
    "項": True,
    "公里": True,
    "万平方米": True,
    "吨": True,
    "万吨": True,
    "亩": True,
    "萬畝": True,
}
_PREFIX = {
    "": "exact",
    "超过": "at_least",
    "超過": "at_least",
    "突破": "at_least",
    "不低于": "at_least",
    "不超过": "at_most",
    "控制在": "at_most",
    "约": "about",
    "約": "about",
    "接近": "about",
}
_SUFFIX = {"": "exact", "以上": "at_least", "左右": "about", "以内": "at_most", "以下": "at_most", "上下": "about"}
_MARKUP = ["", "", "", "<b>", "</b>", '<span class="n">', "</span>", "&nbsp;", "&#160;", "<!-- x -->", " "]


def _digits(draw: st.DrawFn, lo: int = 0) -> tuple[str, float]:
    whole = draw(st.integers(lo, max(lo, 99_999_999)))
    decimals = draw(st.sampled_from(["", "", "5", "25", "05"]))
    s = f"{whole}.{decimals}" if decimals else str(whole)
    return s, float(s)


def _spell(draw: st.DrawFn, s: str, chinese_ok: bool) -> str:
    """One written form of the number ``s`` (non-negative)."""
    import cn2an

    style = draw(st.sampled_from(["plain", "thousands", "thousands_cn", "fullwidth", "chinese", "traditional"]))
    whole, _, frac = s.partition(".")
    if style in ("chinese", "traditional") and chinese_ok and not frac and 0 < int(whole) < 10_000:
        cn = cn2an.an2cn(int(whole), "low")
        return cn.replace("二", "兩") if style == "traditional" and cn == "二" else cn
    if style.startswith("thousands") and len(whole) > 3:
        sep = "," if style == "thousands" else "，"
        groups = [whole[max(0, i - 3) : i] for i in range(len(whole), 0, -3)][::-1]
        return sep.join(groups) + (f".{frac}" if frac else "")
    if style == "fullwidth":
        return s.translate(_FULL)
    if style == "plain" and len(s) > 1 and draw(st.booleans()):  # markup inside the number
        k = draw(st.integers(1, len(s) - 1))
        return s[:k] + draw(st.sampled_from(["<b>", "</b>", "<span>", "&nbsp;"][:3])) + s[k:]
    return s


@st.composite
def generated_targets(draw: st.DrawFn) -> tuple[str, float, float | None, str, str]:
    unit = draw(st.sampled_from(sorted(_UNITS)))
    chinese_ok = _UNITS[unit]
    s, value = _digits(draw)
    is_range = draw(st.integers(0, 4)) == 0
    negative = not is_range and draw(st.integers(0, 3)) == 0
    written = _spell(draw, s, chinese_ok)
    is_chinese = not any(ch.isdigit() for ch in written)
    vmax = None
    if is_range:
        s2, v2 = _digits(draw, lo=int(value) + 1)
        # A range starting at a year-like integer reads as a year span (2024—2025年): not generated.
        assume(not (value.is_integer() and 1900 <= value <= 2100))
        written2 = _spell(draw, s2, chinese_ok and is_chinese)
        assume(is_chinese == (not any(ch.isdigit() for ch in written2)))
        vmax = v2
        written += draw(st.sampled_from(["—", "-", "~", "至", "到"] if not is_chinese else ["至", "到"])) + written2
    if negative:
        written = draw(st.sampled_from(["-", "−", "负"] if not is_chinese else ["负"])) + written
        value = -value
    prefix = "" if is_range else draw(st.sampled_from(sorted(_PREFIX)))
    suffix = "" if is_range or prefix else draw(st.sampled_from(sorted(_SUFFIX)))
    bound = "at_least" if is_range else (_PREFIX[prefix] if prefix else _SUFFIX[suffix])
    m = [draw(st.sampled_from(_MARKUP)) for _ in range(4)]
    if is_chinese:
        m[2] = m[2].strip() if m[2].strip() else ""  # a space inside a Chinese numeral's unit is not written
    text = draw(st.sampled_from(_INDICATORS)) + m[0] + prefix + m[1] + written + m[2] + unit + m[3] + suffix
    return text, value, vmax, unit.replace("％", "%"), bound


@settings(max_examples=min(400, settings().max_examples * 4), suppress_health_check=[HealthCheck.too_slow])
@given(generated_targets())
def test_parsed_value_unit_and_bound_equal_the_generated_ones(case: tuple[str, float, float | None, str, str]) -> None:
    """Negative signs, 億/萬, 1,450 / 1，450, &nbsp; and markup inside numbers parsed wrong."""
    text, value, vmax, unit, bound = case
    f = parse_fields(text)
    assert f.value == pytest.approx(value), (text, f)
    assert (f.value_max is None) == (vmax is None) and (vmax is None or f.value_max == pytest.approx(vmax)), (
        text,
        f,
    )
    assert f.unit == unit, (text, f)
    assert f.bound == bound, (text, f)
    ns, ne = f.number_start, f.number_end
    assert text[ns:ne] == f.number_text


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("增长-2%", -2, "%"),
        ("增长负2%", -2, "%"),
        ("下降−0.5个百分点", -0.5, "个百分点"),
        ("總額突破1450億元", 1450, "億元"),
        ("新增就業4.6萬人", 4.6, "萬人"),
        ("突破1，450亿元", 1450, "亿元"),
        ("突破1,450亿元", 1450, "亿元"),
        ("突破1450&nbsp;亿元", 1450, "亿元"),
        ("突破1<b>450</b>亿元", 1450, "亿元"),
        ("5万-6万人", 6, "万人"),
        ("建成兩個", 2, "個"),
    ],
)
def test_number_examples(text: str, value: float, unit: str) -> None:
    f = parse_fields(text)
    assert (f.value, f.unit) == (value, unit), f


@settings(max_examples=min(100, settings().max_examples))
@given(st.lists(generated_targets(), min_size=2, max_size=8), st.sampled_from(["", " ", "\u3000"]))
def test_figures_without_punctuation_are_separate_targets(
    cases: list[tuple[str, float, float | None, str, str]], glue: str
) -> None:
    """A 50,000-character line of figures gave one 50,000-character target."""
    from pipeline.fields.parse import _MARKUP as MARKUP_RE

    texts = [MARKUP_RE.sub("", c[0]) for c in cases]
    assume(all(not any(u in c[0] for u in ("亿元", "億元", "万元", "萬元")) for c in cases))  # money: 2.2 modifier
    line = glue.join(texts)
    spans = find_target_spans(line)
    assert len(spans) <= len(cases)
    for s, e in spans:
        assert e - s <= 48 + 32 + 40


def test_fifty_thousand_characters_of_figures() -> None:
    line = "地区生产总值增长5%城镇新增就业4.6万人" * 2500
    spans = find_target_spans(line)
    assert len(spans) == 5000 and max(e - s for s, e in spans) <= 12
    lone = "啊" * 30_000 + "增长5%" + "啊" * 20_000
    ((s, e),) = find_target_spans(lone)
    assert e - s <= 48 + 32 + 4 and "增长5%" in lone[s:e]


def test_model_spans_are_capped_too() -> None:
    from pipeline.predict import SentencePrediction, SpanPrediction

    class Whole:
        name = "whole"

        def predict(self, ins):  # noqa: ANN001, ANN202
            return [SentencePrediction("综合", {"综合": 1.0}, [SpanPrediction(0, len(i.text), 0.9)]) for i in ins]

    doc = Tagger(Whole(), suppress_review=False)("啊" * 3000 + "增长5%" + "啊" * 3000 + "。\n", "d")
    (t,) = doc.targets()
    assert len(t.text) <= 160 and "增长5%" in t.text and t.value == 5


# --- 7. evaluation refuses what it cannot score ---------------------------------------------------


def _eval_setup(tmp_path: Path) -> tuple[Path, Path, list]:  # noqa: ANN401
    from test_evaluate import _gold_dir
    from test_scoring import copy_doc, tiny_gold

    from pipeline.annotation.gold import write_gold

    gold = tiny_gold()
    gdir = _gold_dir(tmp_path, [gold])
    pred = tmp_path / "pred"
    write_gold(copy_doc(gold), pred / "d1.jsonl")
    return gdir, pred, copy_doc(gold)


def _evaluate(*argv: str) -> int:
    from pipeline.cli import evaluate

    return evaluate.main(list(argv))


def test_same_document_in_two_prediction_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Duplicated predictions scored 0.667 instead of 1.000."""
    gdir, pred, _ = _eval_setup(tmp_path)
    (pred / "copy.jsonl").write_bytes((pred / "d1.jsonl").read_bytes())
    rc = _evaluate("--pred", str(pred), "--gold", str(gdir), "--out", str(tmp_path / "r"), "--resamples", "0")
    err = capsys.readouterr().err
    assert rc == 2 and "d1.jsonl" in err and "copy.jsonl" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("metrics.json"))
    (pred / "copy.jsonl").unlink()
    with (pred / "d1.jsonl").open("a", encoding="utf-8") as f:  # a sentence given twice in one file
        f.write((pred / "d1.jsonl").read_text(encoding="utf-8").splitlines()[1] + "\n")
    assert _evaluate("--pred", str(pred), "--gold", str(gdir), "--out", str(tmp_path / "r"), "--resamples", "0") == 2
    assert "already at line 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("category", "经济x", "unknown category"),
        ("bound", "roughly", "unknown bound"),
        ("direction", "sideways", "unknown direction"),
        ("value", "Infinity", "finite"),
        ("value", "NaN", "finite"),
        ("value", "1e999", "finite"),
        ("value_max", "-Infinity", "finite"),
        ("value", "true", "finite"),
    ],
)
def test_unknown_labels_and_non_finite_values_are_refused_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, bad: str, message: str
) -> None:
    """Unknown categories and bounds and Infinity were accepted; metrics.json then held Infinity."""
    gdir, pred, recs = _eval_setup(tmp_path)
    lines = (pred / "d1.jsonl").read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[1])
    obj["targets"][0][field] = "@@"
    lines[1] = json.dumps(obj, ensure_ascii=False).replace(
        '"@@"', bad if field != "category" and field != "bound" and field != "direction" else json.dumps(bad)
    )
    (pred / "d1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc = _evaluate("--pred", str(pred), "--gold", str(gdir), "--out", str(tmp_path / "r"), "--resamples", "0")
    err = capsys.readouterr().err
    assert rc == 2 and f"{pred / 'd1.jsonl'}:2:" in err and message in err, err


def test_metrics_json_is_always_valid_json(tmp_path: Path) -> None:
    from pipeline.evaluation.evalrun import finite_json

    doc = finite_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": -float("inf")}})
    assert json.loads(json.dumps(doc, allow_nan=False)) == {"a": None, "b": [None, 1.5], "c": {"d": None}}
    gdir, pred, _ = _eval_setup(tmp_path)
    assert _evaluate("--pred", str(pred), "--gold", str(gdir), "--out", str(tmp_path / "r"), "--resamples", "0") == 0
    (m,) = (tmp_path / "r").rglob("metrics.json")

    def strict(name: str) -> None:
        raise AssertionError(f"{name} in metrics.json")

    json.loads(m.read_text(encoding="utf-8"), parse_constant=strict)


@pytest.mark.parametrize("run_id", ["../x", "a/b", "..", ".", "/tmp/abs", "x\ny", ""])
def test_run_id_must_be_a_plain_name_inside_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    """`--run-id ../x` wrote outside --out."""
    gdir, pred, _ = _eval_setup(tmp_path)
    out = tmp_path / "deep" / "r"
    rc = _evaluate("--pred", str(pred), "--gold", str(gdir), "--out", str(out), "--resamples", "0", "--run-id", run_id)
    assert rc == 2 and "--run-id" in capsys.readouterr().err
    assert not (tmp_path / "deep" / "x").exists() and not list(tmp_path.rglob("metrics.json"))


def test_agree_refuses_two_different_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evaluate.py agree` compared two different documents without a word."""
    from test_evaluate import _gold_dir
    from test_scoring import RAW, tiny_gold

    a = _gold_dir(tmp_path / "a", [tiny_gold("d1")])
    b = _gold_dir(tmp_path / "b", [tiny_gold("d2")])
    assert _evaluate("agree", str(a), str(b)) == 2
    assert "different documents" in capsys.readouterr().err
    c = _gold_dir(tmp_path / "c", [tiny_gold("d1", RAW + "另一段话。\n")])  # same doc_id, another text
    assert _evaluate("agree", str(a), str(c)) == 2
    assert "different texts" in capsys.readouterr().err
    assert _evaluate("agree", str(a), str(a)) == 0


# --- 8. one `error:` line, never a traceback ------------------------------------------------------


def _main(*argv: str) -> int:
    from pipeline.cli import main

    return main(list(argv))


def _blocked(tmp_path: Path) -> Path:
    """A path whose folder cannot be created (it would be below a file), even for root."""
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    return blocker / "sub" / "out.json"


def test_unwritable_out_of_export_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path)
    rc = _main("export", str(src / "r.txt"), "--model", "rules", "--out", str(_blocked(tmp_path)))
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:") and "out.json" in err


def test_unwritable_out_of_select_and_binary_file_in_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _src(tmp_path, ("r", "s"))
    (src / "bin.txt").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    out = tmp_path / "sel.json"
    select = ["select", str(src), "--model", "rules", "-n", "2", "--gold", str(tmp_path / "nogold")]
    rc = _main(*select, "--no-token-entropy", "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 0 and "skipped:" in err and "bin.txt" in err and out.exists(), err
    rc = _main(*select, "--no-token-entropy", "--out", str(_blocked(tmp_path)))
    err = capsys.readouterr().err
    assert rc == 2 and "error:" in err and "out.json" in err


def test_unwritable_out_of_import_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(tmp_path)
    tasks = tmp_path / "tasks.json"
    assert _main("export", str(src / "r.txt"), "--model", "rules", "--out", str(tasks)) == 0
    capsys.readouterr()
    rc = _main(
        "import",
        str(tasks),
        "--raw",
        str(src / "r.txt"),
        "--accept-predictions",
        "--out",
        str(_blocked(tmp_path).with_suffix(".jsonl")),
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:"), err


def test_cuda_on_a_cpu_only_torch_is_an_error_line(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    src = _src(tmp_path)
    rc = _main("tag", "--model", str(tiny_model), "--device", "cuda", str(src / "r.txt"))
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:") and "--device cuda" in err and "Traceback" not in err
    rc = _main(
        "batch", "--quiet", "--model", str(tiny_model), "--device", "cuda", "--out", str(tmp_path / "o"), str(src)
    )
    assert rc == 2 and "--device cuda" in capsys.readouterr().err


def test_truncated_backend_cache_is_rebuilt(tmp_path: Path) -> None:
    """A truncated ONNX cache was used (and failed) forever, never rebuilt."""
    from pipeline.model.backends import _atomic_produce, cache_intact

    calls = []

    def produce(tmp: Path) -> None:
        calls.append(1)
        tmp.write_bytes(b"model bytes " * 1000)

    path = tmp_path / "model-x.onnx"
    _atomic_produce(path, produce)
    assert cache_intact(path) and len(calls) == 1
    _atomic_produce(path, produce)
    assert len(calls) == 1, "an intact cache is reused"
    path.write_bytes(path.read_bytes()[:100])  # truncated (a kill, a full disk)
    assert not cache_intact(path)
    _atomic_produce(path, produce)
    assert len(calls) == 2 and path.read_bytes() == b"model bytes " * 1000
    path.with_name(path.name + ".sha256").unlink()  # a cache from before digests: not trusted
    _atomic_produce(path, produce)
    assert len(calls) == 3 and cache_intact(path)


def test_import_writes_its_raw_copy_inside_the_chosen_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`import` wrote its raw-text copy outside the chosen folder (<out>/../raw)."""
    from pipeline.annotation.gold import load_gold_dir

    src = _src(tmp_path)
    tasks = tmp_path / "tasks.json"
    assert _main("export", str(src / "r.txt"), "--model", "rules", "--out", str(tasks)) == 0
    chosen = tmp_path / "work" / "mygold"
    before = {p for p in tmp_path.rglob("*")}
    assert _main("import", str(tasks), "--raw", str(src / "r.txt"), "--accept-predictions", "--out", str(chosen)) == 0
    new = {p for p in tmp_path.rglob("*")} - before
    assert all(chosen in p.parents or p in (chosen, chosen.parent) for p in new), sorted(new)
    assert (chosen / "raw" / "r.txt").read_bytes() == (src / "r.txt").read_bytes()
    docs, _ = load_gold_dir(chosen)
    assert [d.doc_id for d in docs] == ["r"]
