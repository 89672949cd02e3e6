"""The seed gold set (data/gold/yuzhong-2024.jsonl) and its numbers audit.

Checks the gold against the raw text, the segmenter, the rules of GUIDELINES 2.2/2.3 that can be
checked mechanically, and the audit (every number token accounted for). Fast: no model.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.annotation.audit import (
    EXCLUSION_REASONS,
    TARGET,
    Decision,
    audit,
    audit_files,
    find_number_tokens,
    read_decisions,
    write_decisions,
)
from pipeline.annotation.gold import load_gold_file
from pipeline.cli.audit import main as audit_main
from pipeline.data import field_words
from pipeline.records import GoldDocument
from pipeline.schema import CLAUSE_DELIMITERS, ENUM_MARKER_PATTERN, HEDGE_ZHENGQU_BEFORE, HEDGES
from pipeline.text.segment import segment

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "yuzhong-2024.txt"
GOLD = ROOT / "data" / "gold" / "yuzhong-2024.jsonl"
AUDIT = ROOT / "data" / "audit" / "yuzhong-2024.tsv"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "000_674e5ce036ec5342.txt"
# Clause delimiters of GUIDELINES 2.2 (the schema's list adds ！？!? which also end clauses).
DELIMS = set(CLAUSE_DELIMITERS)


@pytest.fixture(scope="module")
def gold() -> GoldDocument:
    return load_gold_file(GOLD)


def _targets(gold: GoldDocument):  # type: ignore[no-untyped-def]
    return [(s, t) for s in gold.sentences for t in s.targets]


# ---- the files ------------------------------------------------------------------------------


def test_raw_is_byte_copy_of_shared_seed() -> None:
    if not SHARED_SEED.exists():
        pytest.skip("../shared/seed is absent")
    assert RAW.read_bytes() == SHARED_SEED.read_bytes()


def test_gold_loads_and_validates(gold: GoldDocument) -> None:
    assert gold.doc_id == "yuzhong-2024"
    assert gold.raw == RAW.read_text(encoding="utf-8")
    for s in gold.sentences:
        assert gold.raw[s.start : s.end] == s.text
        for t in s.targets:
            assert gold.raw[t.start : t.end] == t.text


def test_guidelines_example_offsets(gold: GoldDocument) -> None:
    """GUIDELINES section 4: the sentence is at [1252, 1270) and its target at [1252, 1269)."""
    (s,) = [s for s in gold.sentences if s.text == "社会消费品零售总额突破1450亿元。"]
    assert (s.start, s.end) == (1252, 1270)
    (t,) = s.targets
    assert (t.start, t.end, t.value, t.unit, t.bound, t.direction) == (1252, 1269, 1450, "亿元", "at_least", None)


def test_gold_sentences_are_the_segmenters_kept_sentences(gold: GoldDocument) -> None:
    kept = segment(gold.raw).sentences
    assert [(s.sent_id, s.start, s.end, s.text) for s in gold.sentences] == [
        (s.sent_id, s.start, s.end, s.text) for s in kept
    ]


def test_gold_is_what_the_spec_generates() -> None:
    """The committed gold and audit files are exactly what the builder makes of the seed's spec."""
    from pipeline.annotation import seed as mod

    gold_text, tsv = mod.render(mod.build_seed())
    assert GOLD.read_text(encoding="utf-8") == gold_text, "rerun govtarget seed"
    assert AUDIT.read_text(encoding="utf-8") == tsv, "rerun govtarget seed"


def test_seed_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.seed import main

    assert main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


# ---- span extent (GUIDELINES 2.2) -------------------------------------------------------------


def _clause(sent_text: str, a: int, b: int) -> tuple[int, int]:
    """The clause of ``sent_text`` (sentence-relative) holding ``[a, b)``."""
    s = a
    while s > 0 and sent_text[s - 1] not in DELIMS:
        s -= 1
    e = b
    while e < len(sent_text) and sent_text[e] not in DELIMS:
        e += 1
    return s, e


def _has_number(text: str) -> bool:
    return bool(find_number_tokens(text))


def _strip_hedge(text: str) -> str:
    for h in HEDGES:
        if text.startswith(h):
            return text[len(h) :]
    return text


def test_spans_are_clean_clause_pieces(gold: GoldDocument) -> None:
    for s, t in _targets(gold):
        a, b = t.start - s.start, t.end - s.start
        where = f"sent {s.sent_id} {t.text!r}"
        assert not any(c in DELIMS for c in t.text), f"{where}: a clause delimiter inside the span"
        assert t.text == t.text.strip() and t.text[-1] not in "。，,；;：:、！？!?", f"{where}: untrimmed"
        assert not any(t.text.startswith(h) for h in HEDGES), f"{where}: starts with a hedge"
        assert not any(t.text.startswith("争取" + w) for w in HEDGE_ZHENGQU_BEFORE), f"{where}: 争取 hedge kept"
        ca, cb = _clause(s.text, a, b)
        before, after = s.text[ca:a], s.text[b:cb]
        # What precedes the span in its clause: nothing, a hedge, or an earlier 、 item that
        # carries its own number (GUIDELINES 2.2, coordination).
        if before:
            if before.endswith("、"):
                assert _has_number(before), f"{where}: split at 、 but the left side has no number"
            else:
                assert _strip_hedge(before) == "" or before in {"全力"}, f"{where}: clause starts with {before!r}"
        # What follows: nothing, or 、 items (numbered ones are their own targets).
        if after:
            assert after.startswith("、"), f"{where}: the clause goes on with {after!r}"


def test_numbered_coordination_is_split_and_unnumbered_is_not(gold: GoldDocument) -> None:
    spans = {(t.start, t.end) for _, t in _targets(gold)}
    for _, t in _targets(gold):
        parts = t.text.split("、")
        if len(parts) > 1:
            # one span across 、: every part but the last must lack a number of its own
            assert not any(_has_number(p) for p in parts[:-1]), f"{t.text!r} should be split at 、"
    # each numbered 、 item of a target's clause is a target itself
    for s, t in _targets(gold):
        a, b = t.start - s.start, t.end - s.start
        ca, cb = _clause(s.text, a, b)
        pos = s.start + ca
        for item in s.text[ca:cb].split("、"):
            if _has_number(item) and not any(x <= pos and pos + len(item) <= y for x, y in spans):
                covered = any(x < pos + len(item) and pos < y for x, y in spans)
                assert covered, f"sent {s.sent_id}: numbered item {item!r} is in no target"
            pos += len(item) + 1


def test_v15_markers_removed_and_numbered_conjunctions_split(gold: GoldDocument) -> None:
    """Guidelines 1.5: no span opens with an enumeration marker; 和/及/与/以及 with a number on each
    side is two spans (data/GUIDELINES.md D49, D50)."""
    for s, t in _targets(gold):
        assert not re.match(ENUM_MARKER_PATTERN, t.text), f"sent {s.sent_id} {t.text!r}: starts with a marker"
        for m in re.finditer("以及|和|及|与", t.text):
            both = _has_number(t.text[: m.start()]) and _has_number(t.text[m.end() :])
            assert not both, f"sent {s.sent_id} {t.text!r}: split at {m.group()} (both sides numbered)"


def test_spans_never_overlap_and_sit_in_their_sentence(gold: GoldDocument) -> None:
    ts = sorted((t.start, t.end) for _, t in _targets(gold))
    for (_a1, b1), (a2, _b2) in zip(ts, ts[1:]):
        assert b1 <= a2
    for s, t in _targets(gold):
        assert s.start <= t.start < t.end <= s.end


# ---- fields (GUIDELINES 2.3) ---------------------------------------------------------------------


def _fmt(v: float | int) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def test_value_and_unit_appear_in_the_text(gold: GoldDocument) -> None:
    for _, t in _targets(gold):
        if t.value == 0 and ("零" in t.text):
            assert t.unit is None
            continue
        num = _fmt(t.value)
        m = re.search(rf"(?<![0-9.]){re.escape(num)}(?![0-9.])", t.text)
        assert m, f"{t.text!r}: value {t.value} not in the text"
        if t.unit is not None:
            # the last occurrence of the number carries the delivered value and its unit
            last = [x for x in re.finditer(rf"(?<![0-9.]){re.escape(num)}(?![0-9.])", t.text)][-1]
            assert t.text[last.end() :].startswith(t.unit), f"{t.text!r}: unit {t.unit!r} not after {num}"
        assert t.value_max is None  # no ranges in the seed


def _derived_bound(t) -> str:  # type: ignore[no-untyped-def]
    """The bound read off the words right around the value (GUIDELINES 2.3)."""
    num = _fmt(t.value)
    if t.value == 0:
        return "exact"
    m = [x for x in re.finditer(rf"(?<![0-9.]){re.escape(num)}(?![0-9.])", t.text)][-1]
    before, after = t.text[: m.start()], t.text[m.end() + len(t.unit or "") :]
    words = field_words()  # the parser's words (pipeline/data/field_words.json)
    for w, bound in words.suffix_bounds:
        if after.startswith(w):
            return bound
    for w, bound in words.prefix_bounds:
        if before.endswith(w):
            return bound
    return "exact"


def test_bound_matches_the_words_around_the_value(gold: GoldDocument) -> None:
    for _, t in _targets(gold):
        assert t.bound == _derived_bound(t), f"{t.text!r}: bound {t.bound}"


def test_direction_only_for_changes(gold: GoldDocument) -> None:
    for _, t in _targets(gold):
        if t.unit == "%":
            # 增加值 (value added) is a noun, not the verb 增加
            text = t.text.replace("增加值", "")
            found = [d for w, d in field_words().directions if w in text]
            expected = found[0] if found else None
        else:
            expected = None  # counts and levels
        assert t.direction == expected, f"{t.text!r}: direction {t.direction}"


def test_categories(gold: GoldDocument) -> None:
    cats = {t.category for _, t in _targets(gold)}
    assert len(cats) >= 10, "the seed has targets in most categories"
    for s, t in _targets(gold):
        assert t.category == s.category, f"sent {s.sent_id}: the seed has no mixed-category sentence"
    # the address to the deputies is framing
    assert all(s.category == "综合" for s in gold.sentences if s.text == "各位代表!")


# ---- the numbers audit ------------------------------------------------------------------------------


def test_find_number_tokens_on_hand_made_text() -> None:
    text = "城镇新增就业4.6万人,增长5%左右,动态清零信访积案,落地一批项目,１４５０亿元,千人拥有3.5个"
    toks = [t.token for t in find_number_tokens(text)]
    assert toks == ["4.6万", "5%", "清零", "一", "１４５０亿", "千", "3.5"]
    for t in find_number_tokens(text):
        assert text[t.start : t.end] == t.token


def test_every_number_in_kept_sentences_is_accounted_for(gold: GoldDocument) -> None:
    res = audit_files(RAW, GOLD, AUDIT)
    assert res.unaccounted == [] and res.problems == [], (res.unaccounted[:5], res.problems[:5])
    decisions = read_decisions(AUDIT)
    assert {d.decision for d in decisions} <= {TARGET, *EXCLUSION_REASONS}
    # each kept sentence's tokens: inside a gold target or excluded with a reason
    spans = [(t.start, t.end) for _, t in _targets(gold)]
    by_key = {(d.start, d.end): d for d in decisions}
    for s in gold.sentences:
        for tok in find_number_tokens(gold.raw, s.start, s.end):
            d = by_key[(tok.start, tok.end)]
            inside = any(a <= tok.start and tok.end <= b for a, b in spans)
            assert (d.decision == TARGET) == inside, f"{tok} in sent {s.sent_id}: {d.decision}"
            assert d.decision != "furniture"
    # every target holds a number token, and every target is named by a row
    named = {(d.target_start, d.target_end) for d in decisions if d.decision == TARGET}
    assert named == set(spans)


def test_audit_flags_a_missing_row_and_a_foreign_target(gold: GoldDocument) -> None:
    decisions = read_decisions(AUDIT)
    spans = [(t.start, t.end) for _, t in _targets(gold)]
    excl = next(i for i, d in enumerate(decisions) if d.decision == "name")
    res = audit(gold.raw, spans, decisions[:excl] + decisions[excl + 1 :])
    assert [(u.start, u.end) for u in res.unaccounted] == [(decisions[excl].start, decisions[excl].end)]
    tgt = next(d for d in decisions if d.decision == TARGET)
    bad = Decision(tgt.start, tgt.end, tgt.token, tgt.sent_id, TARGET, tgt.start, tgt.end + 1, tgt.context)
    res = audit(gold.raw, spans, [bad if d is tgt else d for d in decisions])
    assert any("not in the gold" in p for p in res.problems)
    # excluding a token that lies inside a gold target is a contradiction
    wrong = Decision(tgt.start, tgt.end, tgt.token, tgt.sent_id, "name", context=tgt.context)
    res = audit(gold.raw, spans, [wrong if d is tgt else d for d in decisions])
    assert any("inside gold target" in p for p in res.problems)


def test_audit_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit_main([str(RAW), str(GOLD), str(AUDIT)]) == 0
    assert "OK" in capsys.readouterr().out
    decisions = [d for d in read_decisions(AUDIT) if d.token != "11241"]
    broken = tmp_path / "broken.tsv"
    broken.write_text(write_decisions(decisions), encoding="utf-8")
    assert audit_main([str(RAW), str(GOLD), str(broken)]) == 1
    assert "UNACCOUNTED" in capsys.readouterr().out


# Category examples from the shared GUIDELINES section 3 table that occur in the seed.
TABLE_EXAMPLES = {
    "新增市级以上金融机构5家": "金融",
    "绿色金融规模超1400亿元": "金融",
    "社会消费品零售总额突破1450亿元": "商贸",
    "旅游收入达750亿元": "文旅",
    "精心修缮老鼓楼衙署遗址等10处历史遗产": "文旅",
    "软件业务收入突破500亿元": "产业",
    "新开发货运航线6条": "产业",
    "新认定国家高新技术企业90家": "科创",
    "新增发明专利300件": "科创",
    "缔结友好城市2个": "开放",
    "新增驻渝总领事馆2个": "开放",
    "完成固定资产投资220亿元": "城建",
    "空气质量优良天数达到300天": "生态",
    "能耗强度下降3%": "生态",
    "城镇新增就业4.6万人": "民生",
    "家庭医生签约覆盖率达36%以上": "民生",
    "国企资产规模突破600亿元": "改革",
    "群众安全感指数保持97%以上": "安全",
    "压减一般性支出10%以上": "政府",
}


def test_shared_guideline_examples_are_targets_with_their_category(gold: GoldDocument) -> None:
    by_text = {t.text: t for _, t in _targets(gold)}
    for text, cat in TABLE_EXAMPLES.items():
        assert text in by_text, f"{text!r} is a target in the shared guidelines"
        assert by_text[text].category == cat, text
    # span examples of GUIDELINES 2.1/2.2 that occur in the seed
    for text in (
        "高质量承接举办全球性、区域性峰会论坛等30场",
        "本外币存款余额、保费收入增长12%左右",
        "置换纯电公交车、出租车300辆",
        "改造提升国际村等老旧小区6个",
        "46万平方米",
        "新增“五夜”消费产品100个",
        "加快重医生命健康前沿技术交叉研究院等16个重点创新平台建设",
        "联动42家文博场馆建设“博物馆之城”",
        "实施“一米关爱”项目46个",
        "动态清零信访积案",
        "违法建筑保持零新增",
        "首店首牌50个以上",
    ):
        assert text in by_text, text
    for name in ("11241", "“三大地标商圈”", "“五张消费名片”", "“十大项目”", "“6个10分钟公共服务圈”", "“416”"):
        assert not any(name in t for t in by_text), f"{name} is a name, never inside a target"
    assert not any("196个细分门类" in t or "800亿元资金需求" in t for t in by_text)


def test_decision_log_covers_every_reference_in_the_spec() -> None:
    spec = (ROOT / "data" / "gold" / "specs" / "yuzhong-2024.spec.json").read_text(encoding="utf-8")
    log = (ROOT / "data" / "GUIDELINES.md").read_text(encoding="utf-8")
    refs = set(re.findall(r"\[(D\d+)\]", spec))
    assert refs, "the spec cites the decision log"
    for ref in sorted(refs):
        assert f"**{ref}**" in log, f"{ref} is cited in the spec but not in data/GUIDELINES.md"
