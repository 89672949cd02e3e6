"""Annotator B (pipeline.annotation.annotator_b, ``govtarget annotator-b``): the blind second annotation, its builder and the adjudication record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.annotation import annotator_b as B
from pipeline.annotation.gold import load_gold_file, validate_records
from pipeline.records import GoldDocument, SentenceRecord, Target

ROOT = Path(__file__).resolve().parent.parent
AGREE = ROOT / "data" / "agreement"
GOLD = ROOT / "data" / "gold" / "yuzhong-2024.jsonl"


@pytest.fixture(scope="module")
def records(seed_text: str) -> list[SentenceRecord]:
    return B.build_records(seed_text)


def test_committed_file_is_the_spec_and_valid(records: list[SentenceRecord], seed_text: str) -> None:
    assert B.OUT.read_text(encoding="utf-8") == B.render(records), "run govtarget annotator-b"
    assert validate_records([(i + 1, r.to_json()) for i, r in enumerate(records)], seed_text, "b") == []
    doc = load_gold_file(B.OUT, raw_dir=ROOT / "data" / "raw")
    assert len(doc.sentences) == 249 and doc.doc_id == "yuzhong-2024"


def test_offsets_and_span_rules(records: list[SentenceRecord], seed_text: str) -> None:
    for r in records:
        assert seed_text[r.start : r.end] == r.text
        for t in r.targets:
            assert seed_text[t.start : t.end] == t.text
            assert B.lint_span(r.text, t.start - r.start, t.end - r.start) == [], t.text
            # the value as written is inside the span (零/清零 = 0)
            if t.value == 0:
                assert "零" in t.text
            else:
                assert re.sub(r"\.0$", "", str(t.value)) in t.text, t.text


@pytest.mark.parametrize(
    ("sentence", "span", "problem"),
    [
        ("力争缔结友好城市2个。", "力争缔结友好城市2个", "hedge"),
        ("全力争取实现增长5%。", "争取实现增长5%", "hedge 争取"),
        ("新增就业4.6万人。", "新增就业4.6万人。", "delimiter"),
        ("城镇新增就业4.6万人。", "新增就业4.6万人", "does not start a clause"),
        ("新增就业4.6万人以上。", "新增就业4.6万人", "does not end a clause"),
    ],
)
def test_lint_span_catches(sentence: str, span: str, problem: str) -> None:
    i = sentence.index(span)
    assert any(problem in p for p in B.lint_span(sentence, i, i + len(span)))


def test_lint_span_accepts_stripped_hedges_and_dun_splits() -> None:
    s = "全力争取各类资金30亿元以上,建成4家非遗工坊、3个研学基地。"
    for span in ("争取各类资金30亿元以上", "建成4家非遗工坊", "3个研学基地"):
        i = s.index(span)
        assert B.lint_span(s, i, i + len(span)) == [], span


def test_build_fails_loudly() -> None:
    raw = "新增就业4.6万人。\n能耗强度下降3%。\n"
    ok = (B.s("新增就业", "民生", B.T("新增就业4.6万人", 4.6, "万人")), B.s("能耗", "生态"))
    recs = B.build_records(raw, ok)
    assert raw[recs[0].targets[0].start : recs[0].targets[0].end] == "新增就业4.6万人"
    with pytest.raises(B.SpecError, match="prefix"):
        B.build_records(raw, (B.s("城镇", "民生"), B.s("能耗", "生态")))
    with pytest.raises(B.SpecError, match="not found"):
        B.build_records(raw, (B.s("新增", "民生", B.T("新增就业5万人", 5, "万人")), B.s("能耗", "生态")))
    with pytest.raises(B.SpecError, match="entries"):
        B.build_records(raw, ok[:1])
    with pytest.raises(B.SpecError, match="category"):
        B.build_records(raw, (B.s("新增", "民生"), B.s("能耗", "环保")))


def _doc(sentences: list[SentenceRecord]) -> GoldDocument:
    return GoldDocument("d", "", sentences)


def test_disagreements_kinds() -> None:
    def t(s: int, e: int, cat: str = "民生", value: float = 1, bound: str = "exact") -> Target:
        return Target(s, e, "", cat, value, "个", bound)

    a = _doc([SentenceRecord("d", 0, 0, 50, "", "民生", [t(0, 5), t(10, 15), t(20, 25), t(30, 35)])])
    b = _doc(
        [
            SentenceRecord(
                "d", 0, 0, 50, "", "城建", [t(0, 5, bound="at_least"), t(10, 14), t(30, 35, "科创"), t(40, 45)]
            )
        ]
    )
    kinds = sorted((d["kind"], d.get("field")) for d in B.disagreements(a, b))
    assert kinds == sorted(
        [
            ("sentence_category", None),
            ("field", "bound"),
            ("boundary", None),
            ("gold_only", None),
            ("field", "category"),
            ("b_only", None),
        ]
    )
    assert B.disagreements(a, a) == []


def test_strict_f1() -> None:
    assert B.strict_f1(set(), set()) == 1.0
    assert B.strict_f1({(0, 1)}, set()) == 0.0
    assert B.strict_f1({(0, 1), (2, 3)}, {(0, 1)}) == pytest.approx(2 / 3)


def _adjudicated_rows() -> dict[tuple[int, str], str]:
    rows = {}
    for line in (AGREE / "disagreements.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit():
            rows[(int(cells[1]), cells[2])] = cells[7]
    return rows


def test_every_remaining_disagreement_is_adjudicated_for_the_gold(seed_text: str) -> None:
    """The current gold differs from B exactly where disagreements.md says "keep gold"."""
    gold = load_gold_file(GOLD, raw_dir=ROOT / "data" / "raw")
    mine = GoldDocument(B.DOC_ID, seed_text, B.build_records(seed_text))
    now = {
        (d["sent_id"], d["kind"] + (f":{d['field']}" if d["kind"] == "field" else ""))
        for d in B.disagreements(gold, mine)
    }
    rows = _adjudicated_rows()
    assert len(rows) >= 4
    kept = {k for k, decision in rows.items() if decision.startswith("keep gold")}
    assert now == kept
    # every decision cites a decision-log entry that exists
    log = (ROOT / "data" / "GUIDELINES.md").read_text(encoding="utf-8")
    for decision in rows.values():
        for ref in re.findall(r"\[(D\d+)\]", decision):
            assert f"**{ref}**" in log, ref


def test_blind_figures_recorded() -> None:
    blind = json.loads((AGREE / "agreement-blind.json").read_text(encoding="utf-8"))
    m = blind["metrics"]
    readme = (AGREE / "README.md").read_text(encoding="utf-8")
    assert f"**{m['targets_strict_f']:.3f}**" in readme
    assert f"**{m['sentcat_kappa']:.3f}**" in readme
    assert len(blind["disagreements"]) == len(_adjudicated_rows())


def test_govtarget_annotator_b_checks_and_reproduces_the_recorded_agreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The former scripts/annotate_seed_b.py is a subcommand: --check passes on the committed
    file, and --agree rewrites data/agreement/agreement-adjudicated.json byte for byte."""
    from pipeline.annotation.annotator_b import SHARED_GUIDELINES
    from pipeline.cli import main

    if not SHARED_GUIDELINES.is_file():  # the recorded figures split targets by the guidelines' examples
        pytest.skip("../shared/annotation/GUIDELINES.md is absent")
    assert main(["annotator-b", "--check"]) == 0
    assert "ok: 249 sentences" in capsys.readouterr().out
    out = tmp_path / "agree.json"
    assert main(["annotator-b", "--agree", str(GOLD), "--json", str(out)]) == 0
    assert out.read_bytes() == (AGREE / "agreement-adjudicated.json").read_bytes()


# --------------------------------------------------------------------------- govtarget evaluate agree


def test_agree_over_folders_gives_each_document_and_the_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several documents: per-document figures, the pooled ones, and the part comparison; a
    part changed in B is counted; ``--docs`` selects; a missing one is an error."""
    from helpers import _doc, _gold_dir

    from pipeline.cli.evaluate import main

    docs = [_doc("one"), _doc("two")]
    a = _gold_dir(tmp_path / "a", docs)
    changed = _doc("two")
    changed.sentences[1].extra["part"] = "review"
    b = _gold_dir(tmp_path / "b", [_doc("one"), changed])
    out = tmp_path / "agree.json"
    assert main(["agree", str(a), str(b), "--json-out", str(out), "--quote-chars", "3"]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(res["per_document"]) == ["one", "two"]
    assert res["pooled"]["targets_strict_f"] == 1.0
    assert res["per_document"]["one"]["part_agreement"] == 1.0
    assert [(d["doc_id"], d["sent_id"]) for d in res["pooled"]["part_disagreements"]] == [("two", 1)]
    assert res["pooled"]["part_agreement"] == pytest.approx(1 - 1 / (2 * len(docs[0].sentences)))
    assert "pooled" in capsys.readouterr().out
    assert main(["agree", str(a), str(b), "--docs", "one", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["part_agreement"] == 1.0
    assert main(["agree", str(a), str(b), "--docs", "one,three"]) == 2
    assert "three" in capsys.readouterr().err


def test_agree_reproduces_the_committed_2026_figures(tmp_path: Path) -> None:
    """The command that replaced scripts/agree_2026.py gives B's pooled figures against the current gold."""
    from conftest import CORPUS2

    if not CORPUS2.is_dir():
        pytest.skip("../shared/corpus2 is absent")
    from pipeline.cli.evaluate import main

    docs = "2013_neimenggu_hailar_district,2026_henan_province,2026_jilin_province"
    out = tmp_path / "agree2026.json"
    assert main(["agree", str(ROOT / "data/gold/standoff"), str(AGREE), "--docs", docs, "--json-out", str(out)]) == 0
    pooled = json.loads(out.read_text(encoding="utf-8"))["pooled"]
    assert (pooled["targets_n_a"], pooled["targets_n_b"], pooled["targets_correct"]) == (181, 178, 178)
    assert round(pooled["targets_strict_f"], 3) == 0.992 and pooled["part_agreement"] == 1.0


def test_annotator_b_spec_is_data_in_the_one_spec_format() -> None:
    """B's blind spec is a JSON data file written by ``standoff.dump_spec`` (not Python)."""
    from pipeline.annotation.standoff import dump_spec

    text = B.SPEC_FILE.read_text(encoding="utf-8")
    assert text == dump_spec(json.loads(text))
    spec = B.load_spec()
    assert len(spec) == 249 and sum(len(e.targets) for e in spec) == 92
