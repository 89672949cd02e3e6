"""spaCy component: targets in doc.spans with fields, sentence boundaries, displacy, alignment warnings."""

from __future__ import annotations

import warnings

import pytest
import spacy
from helpers import REPORT, FakePredictor
from spacy import displacy
from spacy.tokens import Doc

import pipeline.tagging.spacy_component  # noqa: F401  (registers the factory)
from pipeline.tagging.spacy_component import blank_zh
from pipeline.tagging.tagger import Tagger


@pytest.fixture()
def nlp(monkeypatch: pytest.MonkeyPatch) -> spacy.language.Language:
    # The component loads its tagger by name; give it the fake predictor instead of rules/model.
    monkeypatch.setattr(
        Tagger, "load", classmethod(lambda cls, spec, **kw: cls(FakePredictor(), suppress_review=kw["suppress_review"]))
    )
    nlp = blank_zh()
    nlp.add_pipe("govtarget", config={"model": "rules"})
    return nlp


def test_targets_and_fields(nlp: spacy.language.Language) -> None:
    doc = nlp(REPORT)
    assert doc.text == REPORT
    spans = doc.spans["targets"]
    texts = [s.text for s in spans]
    assert texts == ["地区生产总值增长6%左右", "城镇新增就业4.6万人", "社会消费品零售总额突破1450亿元"]
    s = spans[2]
    assert (s.start_char, s.end_char) == (REPORT.index("社会"), REPORT.index("亿元") + 2)
    assert (s._.value, s._.unit, s._.bound, s._.direction, s._.unit_canonical) == (
        1450,
        "亿元",
        "at_least",
        None,
        "yuan",
    )
    assert s.label_ == s._.category == "综合" and s._.score == pytest.approx(0.9) and s._.part == "plan"
    assert spans[0]._.direction == "up" and spans[0]._.bound == "about"
    assert s._.record["start"] == s.start_char  # the full record rides along


def test_sentences_from_segmenter(nlp: spacy.language.Language) -> None:
    doc = nlp(REPORT)
    sents = [s.text.strip() for s in doc.sents]
    assert "地区生产总值增长6%左右，城镇新增就业4.6万人。" in sents
    assert "社会消费品零售总额突破1450亿元。" in sents
    labelled = doc.spans["sentences"]
    assert all(sp.label_ == sp._.category for sp in labelled)
    assert {sp._.part for sp in labelled} >= {"review", "plan"}


def test_displacy_renders(nlp: spacy.language.Language) -> None:
    html = displacy.render(nlp(REPORT), style="span", options={"spans_key": "targets"})
    assert "亿" in html and "综合" in html and html.count("综合") >= 3


def test_pipe_batches_and_empty_doc(nlp: spacy.language.Language) -> None:
    docs = list(nlp.pipe([REPORT, "", "没有数字的句子。"], batch_size=2))
    assert [len(d.spans["targets"]) for d in docs] == [3, 0, 0]


def test_unaligned_span_is_warned_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        Tagger, "load", classmethod(lambda cls, spec, **kw: cls(FakePredictor(), suppress_review=kw["suppress_review"]))
    )
    nlp = spacy.blank("zh", config=pipeline.tagging.spacy_component.CHAR_ZH_CONFIG)
    # Tokens of two characters each: a target starting at an odd offset cannot align strictly.
    nlp.tokenizer = lambda text: Doc(
        nlp.vocab, words=[text[i : i + 2] for i in range(0, len(text), 2)], spaces=[False] * ((len(text) + 1) // 2)
    )
    nlp.add_pipe("govtarget")
    text = "二、2025年工作安排\n目标：增长6%以上。\n"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        doc = nlp(text)
    assert doc.user_data.get("govtarget_unaligned"), "the misaligned target is listed"
    assert any("token boundaries" in str(x.message) or "cannot be aligned" in str(x.message) for x in w)
    listed = doc.user_data["govtarget_unaligned"]
    assert all(text[u["start"] : u["end"]] == u["text"] for u in listed)
    tspans = doc.spans["targets"]
    assert len(tspans) == 1 and "增长6%以上" in tspans[0].text  # expanded to token edges, still there
