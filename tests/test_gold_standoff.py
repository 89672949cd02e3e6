"""Standoff gold for corpus reports (data/gold/standoff): loading, honesty checks, the builder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, ROOT, standoff_source_dir

from pipeline.annotation.gold import load_gold_dir, load_gold_file
from pipeline.errors import GoldError, SourceMissing
from pipeline.schema import PARTS
from pipeline.text.reader import read_report
from pipeline.text.segment import segment

STANDOFF = ROOT / "data" / "gold" / "standoff"
FILES = sorted(STANDOFF.glob("*.jsonl"))


def _script() -> Any:
    from pipeline.annotation import standoff

    return standoff


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _source_dir(path: Path) -> Path | None:
    return standoff_source_dir(_lines(path)[0])


def _corpus_has(path: Path) -> bool:
    return _source_dir(path) is not None


needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is absent")


def test_there_is_standoff_gold() -> None:
    assert len(FILES) >= 3, "at least three corpus reports are annotated"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_header_and_no_corpus_text(path: Path) -> None:
    lines = _lines(path)
    header, records = lines[0], lines[1:]
    assert header["standoff"] is True
    assert header["doc_id"] == path.stem
    assert header["source"] == f"{path.stem}.txt"
    assert len(header["sha256"]) == 64
    assert "text" not in header
    for rec in records:
        # The corpus is not ours to commit: no text anywhere, not even in targets.
        assert "text" not in rec, f"{path.name} sent_id {rec['sent_id']} carries text"
        for t in rec["targets"]:
            assert "text" not in t
    assert [r["sent_id"] for r in records] == list(range(len(records)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_targets_only_in_plan_and_a_review_exists(path: Path) -> None:
    records = _lines(path)[1:]
    assert all(r["part"] in PARTS for r in records)
    assert any(r["part"] == "review" for r in records), "each document has a review of the past year"
    assert any(r["targets"] for r in records), "each document has targets in its plan part"
    for r in records:
        if r["targets"]:
            assert r["part"] == "plan", f"{path.name} sent_id {r['sent_id']}: targets outside the plan part"


@needs_corpus
def test_every_standoff_file_loads_and_validates() -> None:
    if not all(_corpus_has(p) for p in FILES):
        pytest.skip("a standoff source is absent (../shared/corpus, ../shared/corpus2)")
    docs, skipped = load_gold_dir(STANDOFF, strict_standoff=True)
    assert skipped == []
    assert sorted(d.doc_id for d in docs) == [p.stem for p in FILES]
    for d in docs:
        for s in d.sentences:
            assert d.raw[s.start : s.end] == s.text
            for t in s.targets:
                assert d.raw[t.start : t.end] == t.text
                assert s.start <= t.start < t.end <= s.end
    # Different governments: county, city and province reports are all represented.
    governments = {d.doc_id.split("_", 1)[1] for d in docs}
    assert len(governments) >= 3


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_sentences_are_the_segmenters_kept_sentences(path: Path) -> None:
    """Gold sentences must be today's ``segment()`` sentences, or sentence scoring misaligns.

    If this fails after a segmenter change, regenerate: ``annotate_standoff.py export`` the file
    to a spec, check the entries it names, then ``build`` it again.
    """
    if not _corpus_has(path):
        pytest.skip(f"{path.name}: source not in the corpus")
    header = _lines(path)[0]
    got = [(r["start"], r["end"]) for r in _lines(path)[1:]]
    want = [(s.start, s.end) for s in segment(read_report(_source_dir(path) / header["source"]).text).sentences]
    assert got == want


#: The six Hebei documents of issue 7, reread under guidelines 1.5 (DECISIONS.md, "v1.5 update").
HEBEI_V15 = [STANDOFF / f"{d}.jsonl" for d in (
    "2010_baoding_city", "2019_baoding_city", "2020_hebei_province",
    "2021_baoding_mancheng", "2022_baoding_gaoyang_county", "2025_baoding_gaoyang_county",
)]  # fmt: skip


@needs_corpus
@pytest.mark.parametrize("path", HEBEI_V15, ids=lambda p: p.stem)
def test_hebei_gold_follows_v15_span_rules(path: Path) -> None:
    """No span opens with an enumeration marker; 和/及/与/以及 with a number on each side is split."""
    import re

    from pipeline.annotation.audit import find_number_tokens
    from pipeline.schema import ENUM_MARKER_PATTERN

    if not _corpus_has(path):
        pytest.skip(f"{path.name}: source not in the corpus")
    doc = load_gold_file(path, corpus_dir=_source_dir(path))
    for s in doc.sentences:
        for t in s.targets:
            assert not re.match(ENUM_MARKER_PATTERN, t.text), f"sent {s.sent_id}: a span opens with a marker"
            for m in re.finditer("以及|和|及|与", t.text):
                both = find_number_tokens(t.text[: m.start()]) and find_number_tokens(t.text[m.end() :])
                assert not both, f"sent {s.sent_id}: split at {m.group()} (both sides numbered)"


def test_absent_corpus_is_skipped_cleanly(tmp_path: Path) -> None:
    empty = tmp_path / "corpus"
    empty.mkdir()
    docs, skipped = load_gold_dir(STANDOFF, corpus_dir=empty)
    assert docs == []
    assert len(skipped) == len(FILES)
    for path, msg in zip(FILES, skipped):
        assert path.stem in msg and "not found" in msg
    with pytest.raises(SourceMissing):
        load_gold_dir(STANDOFF, corpus_dir=empty, strict_standoff=True)


def test_wrong_sha256_is_rejected(tmp_path: Path) -> None:
    src = FILES[0]
    header = _lines(src)[0]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # A source of the right name but other bytes (a different version of the report).
    (corpus / header["source"]).write_text("各位代表：\n今年地区生产总值增长6%左右。\n", encoding="utf-8")
    with pytest.raises(GoldError, match="sha256"):
        load_gold_file(src, corpus_dir=corpus)


@needs_corpus
def test_a_changed_corpus_file_is_rejected(tmp_path: Path) -> None:
    src = next((p for p in FILES if _corpus_has(p)), None)
    if src is None:
        pytest.skip("no annotated source in the corpus")
    header = _lines(src)[0]
    data = (_source_dir(src) / header["source"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == header["sha256"]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / header["source"]).write_bytes(data + b"\n")
    with pytest.raises(GoldError, match="sha256"):
        load_gold_file(src, corpus_dir=corpus)


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_committed_files_are_reproduced_by_the_builder(path: Path) -> None:
    """export → build gives back the committed file byte for byte: the gold is the script's output."""
    if not _corpus_has(path):
        pytest.skip(f"{path.name}: source not in the corpus")
    mod = _script()
    src = _source_dir(path)
    spec = mod.export(path, src)
    assert mod.to_jsonl(mod.build(spec, src, path.name)) == path.read_text(encoding="utf-8")


# --- the builder on a tiny synthetic report (no corpus needed) ---------------------------------

_DOC = (
    "各位代表：\n"
    "一、2023年工作回顾\n"
    "去年地区生产总值增长5.2%。\n"
    "二、2024年工作安排\n"
    "今年主要预期目标是：地区生产总值增长6%左右，城乡居民收入分别增长6%和7%。\n"
    "力争新增高新技术企业10家，建设“三大”中心。\n"
)


def _spec(**target_overrides: Any) -> dict[str, Any]:
    t0 = {"text": "地区生产总值增长6%左右", "value": 6, "unit": "%", "bound": "about", "direction": "up"}
    t0.update(target_overrides)
    return {
        "source": "demo.txt",
        "sentences": [
            {"prefix": "各位代表", "part": "other", "category": "综合"},
            {"prefix": "一、2023年", "part": "review", "category": "综合"},
            {"prefix": "去年地区", "part": "review", "category": "综合"},
            {"prefix": "二、2024年", "part": "plan", "category": "综合"},
            {
                "prefix": "今年主要",
                "part": "plan",
                "category": "综合",
                "targets": [
                    t0,
                    {
                        "text": "城乡居民收入分别增长6%",
                        "category": "民生",
                        "value": 6,
                        "unit": "%",
                        "bound": "exact",
                        "direction": "up",
                    },
                    {"text": "7%", "category": "民生", "value": 7, "unit": "%", "bound": "exact", "direction": "up"},
                ],
            },
            {
                "prefix": "力争新增",
                "part": "plan",
                "category": "科创",
                "targets": [
                    {"text": "新增高新技术企业10家", "value": 10, "unit": "家", "bound": "exact", "direction": None}
                ],
            },
        ],
    }


@pytest.fixture()
def demo_corpus(tmp_path: Path) -> Path:
    (tmp_path / "demo.txt").write_text(_DOC, encoding="utf-8")
    return tmp_path


def test_builder_offsets_point_into_the_raw_text(demo_corpus: Path) -> None:
    mod = _script()
    built = mod.build(_spec(), demo_corpus)
    raw = read_report(demo_corpus / "demo.txt").text
    texts = [raw[t["start"] : t["end"]] for r in built.records for t in r["targets"]]
    assert texts == ["地区生产总值增长6%左右", "城乡居民收入分别增长6%", "7%", "新增高新技术企业10家"]
    assert built.header["sha256"] == hashlib.sha256((demo_corpus / "demo.txt").read_bytes()).hexdigest()
    out = demo_corpus / "gold"
    out.mkdir()
    (out / "demo.jsonl").write_text(mod.to_jsonl(built), encoding="utf-8")
    doc = load_gold_file(out / "demo.jsonl", corpus_dir=demo_corpus)
    assert [t.category for t in doc.targets()] == ["综合", "民生", "民生", "科创"]
    # Round trip through export.
    assert mod.to_jsonl(mod.build(mod.export(out / "demo.jsonl", demo_corpus), demo_corpus)) == mod.to_jsonl(built)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": "地区生产总值增长9%左右", "value": 9}, "not found"),
        ({"value": 5}, "not found in the span"),
        ({"unit": "万人"}, "not found in the span"),
        ({"bound": "roughly"}, "unknown bound"),
        ({"text": "生产总值增长6%左右"}, "not a whole clause"),
        ({"text": "地区生产总值增长6%左右，"}, "ends in punctuation"),
        ({"category": "经济"}, "unknown category"),
    ],
)
def test_builder_fails_loudly_on_a_bad_target(demo_corpus: Path, change: dict[str, Any], message: str) -> None:
    mod = _script()
    with pytest.raises(mod.SpecError, match=message):
        mod.build(_spec(**change), demo_corpus)


def test_builder_rejects_targets_in_the_review(demo_corpus: Path) -> None:
    mod = _script()
    spec = _spec()
    spec["sentences"][2]["targets"] = [
        {"text": "去年地区生产总值增长5.2%", "value": 5.2, "unit": "%", "bound": "exact", "direction": "up"}
    ]
    with pytest.raises(mod.SpecError, match="only plan sentences hold targets"):
        mod.build(spec, demo_corpus)


def test_builder_rejects_a_spec_that_does_not_fit_the_sentences(demo_corpus: Path) -> None:
    mod = _script()
    spec = _spec()
    del spec["sentences"][3]
    with pytest.raises(mod.SpecError, match="does not start with spec prefix"):
        mod.build(spec, demo_corpus)
    spec = _spec()
    spec["sentences"].append({"prefix": "多余", "part": "plan", "category": "综合"})
    with pytest.raises(mod.SpecError, match="left over"):
        mod.build(spec, demo_corpus)


def test_entries_of_sentences_that_became_furniture_are_dropped(demo_corpus: Path) -> None:
    """A spec written before the segmenter skipped a line still builds; the line's entry goes."""
    mod = _script()
    spec = _spec()
    spec["sentences"].insert(0, {"prefix": "编辑：张三", "part": "other", "category": "综合"})
    (demo_corpus / "demo.txt").write_text("编辑：张三\n" + _DOC, encoding="utf-8")
    assert "编辑" in segment("编辑：张三\n").skipped[0].text  # the premise: a byline is furniture
    built = mod.build(spec, demo_corpus)
    assert len(built.records) == len(_spec()["sentences"])
    # A target inside a furniture line is never dropped silently.
    spec["sentences"][0]["targets"] = [{"text": "张三", "value": 3, "unit": None, "bound": "exact", "direction": None}]
    with pytest.raises(mod.SpecError):
        mod.build(spec, demo_corpus)


def test_rebuild_command_rewrites_in_place(demo_corpus: Path) -> None:
    from pipeline.cli import standoff as mod  # `govtarget standoff`

    out = demo_corpus / "gold"
    assert mod.main(["build", "--corpus", str(demo_corpus), "--out", str(out), str(_write(demo_corpus, _spec()))]) == 0
    path = out / "demo.jsonl"
    before = path.read_text(encoding="utf-8")
    assert mod.main(["rebuild", "--corpus", str(demo_corpus), str(path)]) == 0
    assert path.read_text(encoding="utf-8") == before
    # A changed source is refused (sha256), and the file is left as it was.
    (demo_corpus / "demo.txt").write_text(_DOC + "新增一行。\n", encoding="utf-8")
    assert mod.main(["rebuild", "--corpus", str(demo_corpus), str(path)]) == 1
    assert path.read_text(encoding="utf-8") == before


def _write(folder: Path, spec: dict[str, Any]) -> Path:
    p = folder / "demo.spec.json"
    p.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return p


# --- one spec format, one builder: inline gold (the seed's kind) and standoff gold ---------------


def _audited_spec() -> dict[str, Any]:
    """The demo spec with an exclusion for every number token outside the targets."""
    spec = _spec()
    reasons = [
        [],
        [{"phrase": "一、2023年", "reason": "ordinal"}],
        [{"phrase": "5.2%", "reason": "past_result"}],
        [{"phrase": "二、2024年", "reason": "ordinal"}],
        [],
        [{"phrase": "“三大”", "reason": "name", "note": "a programme title"}],
    ]
    for entry, xs in zip(spec["sentences"], reasons):
        if xs:
            entry["exclusions"] = xs
    return spec


def test_one_builder_builds_inline_and_standoff_gold_from_one_spec(demo_corpus: Path) -> None:
    from pipeline.annotation.audit import TARGET, audit, write_decisions

    mod = _script()
    standoff = mod.build(_audited_spec(), demo_corpus)
    inline = mod.build({**_audited_spec(), "inline": True}, demo_corpus)
    raw = read_report(demo_corpus / "demo.txt").text
    # The same sentences and targets; inline records carry the texts and no part, standoff the reverse.
    assert [(r["start"], r["end"]) for r in inline.records] == [(r["start"], r["end"]) for r in standoff.records]
    for ri, rs in zip(inline.records, standoff.records):
        assert ri["text"] == raw[ri["start"] : ri["end"]] and "part" not in ri
        assert "text" not in rs and rs["part"] in PARTS
        assert [{k: v for k, v in t.items() if k != "text"} for t in ri["targets"]] == rs["targets"]
        for t in ri["targets"]:
            assert t["text"] == raw[t["start"] : t["end"]]
    text_i, text_s = mod.to_jsonl(inline), mod.to_jsonl(standoff)
    assert not json.loads(text_i.splitlines()[0]).get("standoff")
    assert json.loads(text_s.splitlines()[0])["standoff"] is True
    # Both files load as gold documents with the same targets.
    (demo_corpus / "inline.jsonl").write_text(text_i, encoding="utf-8")
    (demo_corpus / "standoff.jsonl").write_text(text_s, encoding="utf-8")
    doc_i = load_gold_file(demo_corpus / "inline.jsonl", raw_dir=demo_corpus)
    doc_s = load_gold_file(demo_corpus / "standoff.jsonl", corpus_dir=demo_corpus)
    assert [(t.start, t.end, t.text, t.value) for t in doc_i.targets()] == [
        (t.start, t.end, t.text, t.value) for t in doc_s.targets()
    ]
    # The audit comes from the same spec, for either kind, and passes the audit check.
    decisions = mod.audit_decisions(inline)
    assert write_decisions(decisions) == write_decisions(mod.audit_decisions(standoff))
    by_token = {d.token: d.decision for d in decisions}
    assert by_token["5.2%"] == "past_result" and by_token["三"] == "name" and by_token["10"] == TARGET
    spans = [(t.start, t.end) for t in doc_i.targets()]
    assert audit(raw, spans, decisions).ok


def test_spec_text_round_trips_and_builds(demo_corpus: Path) -> None:
    mod = _script()
    spec = {**_audited_spec(), "inline": True}
    path = demo_corpus / "demo.spec.json"
    path.write_text(mod.dump_spec(spec), encoding="utf-8")
    assert mod.load_spec(path) == spec
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2 + len(spec["sentences"])  # one line each
    path.write_text(mod.dump_spec(spec)[:-3], encoding="utf-8")
    with pytest.raises(mod.SpecError, match=r"demo\.spec\.json:\d+: not JSON"):
        mod.load_spec(path)


@pytest.mark.parametrize(
    ("exclusion", "message"),
    [
        ({"phrase": "“三大”", "reason": "slogan"}, "unknown reason"),
        ({"phrase": "“四大”", "reason": "name"}, "not found"),
        ({"phrase": "中心", "reason": "name"}, "holds no number token"),
    ],
)
def test_builder_fails_loudly_on_a_bad_exclusion(demo_corpus: Path, exclusion: dict[str, str], message: str) -> None:
    mod = _script()
    spec = _audited_spec()
    spec["sentences"][5]["exclusions"] = [exclusion]
    with pytest.raises(mod.SpecError, match=message):
        mod.build(spec, demo_corpus)


def test_audit_names_an_unaccounted_number_and_a_contradiction(demo_corpus: Path) -> None:
    mod = _script()
    spec = _audited_spec()
    del spec["sentences"][2]["exclusions"]
    with pytest.raises(mod.SpecError, match=r"no decision:\n  sent_id 2 .*'5\.2%'"):
        mod.audit_decisions(mod.build(spec, demo_corpus))
    spec = _audited_spec()
    spec["sentences"][5]["exclusions"].append({"phrase": "10家", "reason": "name"})
    with pytest.raises(mod.SpecError, match="both inside a target and excluded"):
        mod.audit_decisions(mod.build(spec, demo_corpus))


def test_seed_spec_is_the_one_format() -> None:
    """The seed's committed spec is a spec of the one format: inline, built by the same ``build``."""
    from pipeline.annotation import seed

    mod = _script()
    spec = mod.load_spec(seed.SPEC)
    assert spec["inline"] is True and spec["source"] == seed.RAW.name
    built = mod.build(spec, seed.RAW.parent, str(seed.SPEC))
    assert mod.to_jsonl(built) == seed.GOLD.read_text(encoding="utf-8")
    assert seed.SPEC.read_text(encoding="utf-8") == mod.dump_spec(spec), "the spec is written by dump_spec"


def test_build_command_writes_inline_gold(demo_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import standoff as cli

    mod = _script()
    spec = {**_audited_spec(), "inline": True}
    out = demo_corpus / "gold"
    assert cli.main(["build", "--corpus", str(demo_corpus), "--out", str(out), str(_write(demo_corpus, spec))]) == 0
    assert "(inline)" in capsys.readouterr().out
    assert (out / "demo.jsonl").read_text(encoding="utf-8") == mod.to_jsonl(mod.build(spec, demo_corpus))


def test_every_gold_target_is_a_whole_clause_for_the_builder() -> None:
    """The builder's check (``fields.clauses.clause_boundaries``, coordinators judged in their whole
    clause) holds for every committed target of every split: one definition of GUIDELINES 2.2."""
    from conftest import CORPUS2

    from pipeline.annotation.standoff import _whole_clause

    if not (CORPUS.is_dir() and CORPUS2.is_dir()):
        pytest.skip("../shared/corpus or corpus2 is absent")
    docs, _ = load_gold_dir(ROOT / "data" / "gold", split="all")
    checked = [
        (d.doc_id, s.sent_id, t.text)
        for d in docs
        for s in d.sentences
        for t in s.targets
        if not _whole_clause(s.text, t.start - s.start, t.end - s.start)
    ]
    assert checked == []
    assert sum(len(s.targets) for d in docs for s in d.sentences) > 1300


def test_builder_range_check_uses_the_parsers_separators() -> None:
    """A hand-written range passes with any separator the number parser reads (``fields.parse.RANGE_SEP``)."""
    from pipeline.annotation.standoff import _check_fields

    base = {"value": 5, "value_max": 6, "unit": "%", "bound": "at_least", "direction": "up"}
    for sep in ("—", "-", "－", "–", "~", "～", "〜", "至", "到", "——", " - "):
        assert _check_fields(dict(base), f"增长5%{sep}6%", "w") == [], sep
        assert _check_fields(dict(base), f"增长5{sep}6%", "w") == [], sep
    assert _check_fields(dict(base), "增长6%", "w") != []  # the value is not in the span


def test_clause_boundaries_coordination_scope() -> None:
    from pipeline.fields.clauses import clause_boundaries

    t = "完成3万亩退耕还林工程的补植、管护任务和3000亩重点区域绿化工作任务。"
    k = t.index("和")
    item, clause = clause_boundaries(t), clause_boundaries(t, coordination="clause")
    assert k not in item[1] and k + 1 not in item[0]  # the 、 item before 和 holds no figure
    assert k in clause[1] and k + 1 in clause[0]
    with pytest.raises(ValueError):
        clause_boundaries(t, coordination="sentence")
