"""Properties of segmentation + tagging over arbitrary Unicode text (issue 6, tagging level).

For the rule tagger and a tiny random model (two layers, hidden 32, generated vocabulary, short
windows so that overlapping windows are exercised): tagging never raises on valid text, every
emitted sentence and target satisfies ``raw[start:end] == text``, targets lie inside their
sentence and never overlap, every record passes the gold validator and serialises as strict
JSON, and tagging is deterministic (twice the same; ``tag_many`` of several documents the same
as one by one).
"""

from __future__ import annotations

import json
import math

import pytest
from helpers import make_tiny_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.annotation.gold import validate_records
from pipeline.predict import SentenceInput
from pipeline.records import SentenceRecord
from pipeline.rules.baseline import RulePredictor
from pipeline.schema import BOUNDS, CATEGORIES, DIRECTIONS
from pipeline.tagging.tagger import TaggedDocument, Tagger
from pipeline.text.segment import segment

# Pieces of report text, and the dirt found in scraped reports, mixed with arbitrary characters.
PIECES = [
    "一、2023年工作回顾\n", "二、2024年工作安排\n", "（一）", "今年主要预期目标是：", "过去一年，",
    "地区生产总值增长", "城镇新增就业", "社会消费品零售总额突破", "能耗强度下降", "新建", "力争", "确保",
    "5", "4.6", "1450", "１４５０", "４．６", "５％", "3%", "1—2", "1,450", "0.5个百分点",
    "两个", "十二个", "三大", "零新增", "清零",
    "亿元", "万人", "%", "个", "家", "万平方米", "左右", "以上", "以内", "突破",
    "、", "，", "。", "；", "：", "！", "“", "”", "《", "》", "（", "）",
    "\r\n", "\n", "\r", " ", "\u3000", "\t", "\x00", "\x07", "\ufeff", "\u200b", "\xa0",
    "&nbsp;", "&amp;", "<p>", "</p>", "<br/>", '<div class="c">', "𠮷", "😀", "\ufffd",
    "GDP", "ＧＤＰ", "5G", "REITs",
]  # fmt: skip

report_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=40).map("".join)
any_text = st.one_of(report_like, st.text(max_size=120))


def rules_tagger(suppress_review: bool = False) -> Tagger:
    return Tagger(RulePredictor(), suppress_review=suppress_review)


def check_document(doc: TaggedDocument, raw: str) -> None:
    """Every invariant a tagged document promises (offsets, nesting, validity, strict JSON)."""
    assert doc.text == raw
    prev = 0
    for s in doc.segmentation.segments:
        assert 0 <= s.start <= s.end <= len(raw)
        assert raw[s.start : s.end] == s.text
        assert s.start >= prev, "segments in order, never overlapping"
        prev = s.end
    kept = doc.segmentation.sentences
    assert [s.sent_id for s in kept] == list(range(len(kept)))
    assert [(r.start, r.end, r.sent_id) for r in doc.sentences] == [(s.start, s.end, s.sent_id) for s in kept]
    last_end = -1
    for rec in doc.sentences:
        assert raw[rec.start : rec.end] == rec.text
        assert rec.category in CATEGORIES
        for t in rec.targets:
            assert raw[t.start : t.end] == t.text
            assert rec.start <= t.start < t.end <= rec.end, "a target lies inside its sentence"
            assert t.start >= last_end, "targets never overlap"
            last_end = t.end
            assert t.category in CATEGORIES and t.bound in BOUNDS and t.direction in DIRECTIONS
            for v in (t.value, t.value_max):
                assert v is None or (isinstance(v, (int, float)) and math.isfinite(v))
        # Strict JSON (no NaN/Infinity, no lone surrogates) that reads back to the same record.
        line = json.dumps(rec.to_json(), ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")
        assert SentenceRecord.from_json(json.loads(line)).to_json() == rec.to_json()
    assert validate_records([(i + 1, r.to_json()) for i, r in enumerate(doc.sentences)], raw, "prop") == []


def as_json(docs: list[TaggedDocument]) -> list[list[dict[str, object]]]:
    return [[r.to_json() for r in d.sentences] for d in docs]


# --------------------------------------------------------------------------- rules


@given(any_text)
def test_segmentation_offsets(text: str) -> None:
    seg = segment(text)
    for s in seg.segments:
        assert text[s.start : s.end] == s.text


@given(any_text)
def test_rules_tagging_invariants(text: str) -> None:
    check_document(rules_tagger()(text, "d"), text)


@given(report_like)
def test_rules_tagging_invariants_with_review_suppressed(text: str) -> None:
    doc = rules_tagger(suppress_review=True)(text, "d")
    check_document(doc, text)
    for rec in doc.sentences:
        if rec.extra["part"] == "review":
            assert rec.targets == [], "figures in the review are results, never targets"


@given(any_text)
def test_rules_tagging_is_deterministic(text: str) -> None:
    assert as_json([rules_tagger()(text, "d")]) == as_json([rules_tagger()(text, "d")])


@given(st.lists(any_text, min_size=2, max_size=4))
def test_rules_tag_many_equals_one_by_one(texts: list[str]) -> None:
    """A document's output never depends on which documents were tagged with it (batch chunks,
    resumed runs): the rules' category context must not leak from one document into the next."""
    tagger = rules_tagger()
    docs = [(f"d{i}", t) for i, t in enumerate(texts)]
    assert as_json(tagger.tag_many(docs)) == as_json([tagger(t, d) for d, t in docs])


def test_rules_context_does_not_leak_across_documents() -> None:
    """The case hypothesis found first: a finance-heavy document before a keyword-less one."""
    a, b = "金融机构存款贷款保险银行融资证券。", "我们要继续努力。"
    tagger = rules_tagger()
    together = tagger.tag_many([("a", a), ("b", b)])[1]
    alone = tagger(b, "b")
    assert together.sentences[0].category == alone.sentences[0].category == "综合"


# --------------------------------------------------------------------------- tiny model


@pytest.fixture(scope="module")
def model_tagger(tmp_path_factory: pytest.TempPathFactory) -> Tagger:
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    # Review suppression off: the random model's spans are checked everywhere.
    return Tagger.load(folder, suppress_review=False, batch_size=8)


MODEL_SETTINGS = settings(
    max_examples=min(40, settings().max_examples), suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@MODEL_SETTINGS
@given(any_text)
def test_model_tagging_invariants(model_tagger: Tagger, text: str) -> None:
    check_document(model_tagger(text, "d"), text)


@settings(MODEL_SETTINGS, max_examples=min(15, settings().max_examples))
@given(st.lists(any_text, min_size=2, max_size=4))
def test_model_deterministic_and_batch_independent(model_tagger: Tagger, texts: list[str]) -> None:
    docs = [(f"d{i}", t) for i, t in enumerate(texts)]
    together = model_tagger.tag_many(docs)
    for d, (_, t) in zip(together, docs):
        check_document(d, t)
    assert as_json(together) == as_json([model_tagger(t, d) for d, t in docs])
    assert as_json(together) == as_json(model_tagger.tag_many(docs))


def test_model_windows_cover_long_sentences(model_tagger: Tagger) -> None:
    """A sentence far longer than the window (48 tokens) is tagged through overlapping windows."""
    text = "二、2024年工作安排\n" + "".join(f"新建{i}个园区、城镇新增就业4.6万人𠮷\x00" for i in range(40)) + "。"
    doc = model_tagger(text, "d")
    check_document(doc, text)
    pred = model_tagger.predictor
    longest = max(doc.sentences, key=lambda r: len(r.text))
    assert len(longest.text) > 500
    encoded = pred.encode_inputs([SentenceInput(longest.text)])
    assert len(encoded[0].windows) > 5
