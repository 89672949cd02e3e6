from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.reader import read_report
from pipeline.segment import segment, split_sentences

# Text built from the characters that matter to the splitter, plus anything at all.
_ALPHABET = st.sampled_from(list("。！？；!?;，,、“”（）()\n\r \t\u3000\ufeff\u200b1450亿元万人%一二三、政府工作报告编辑:上接版")) | st.characters()
texty = st.lists(_ALPHABET, max_size=300).map("".join)


def _check(text: str) -> None:
    seg = segment(text)
    prev_end = 0
    for s in seg.segments:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() or s.text.strip() == ""
        assert s.start >= prev_end, "segments are in order and never overlap"
        prev_end = s.end
    ids = [s.sent_id for s in seg.sentences]
    assert ids == list(range(len(ids)))


@given(texty)
def test_offsets_property_reportlike(text: str) -> None:
    _check(text)


@given(st.text())
def test_offsets_property_any_unicode(text: str) -> None:
    _check(text)


def test_sentence_rules() -> None:
    text = "拓展国际交往。加强合作,力争缔结友好城市2个；新增领馆2个！\r\n第二行“引号。”后面\n"
    spans = [text[a:b] for a, b in split_sentences(text, 0, len(text))]
    assert spans == ["拓展国际交往。", "加强合作,力争缔结友好城市2个；", "新增领馆2个！", "第二行“引号。”", "后面"]
    seg = segment(text)
    assert [s.text for s in seg.sentences] == spans


def test_crlf_kept_and_offsets_exact() -> None:
    text = "各位代表：\r\n一、2023年工作回顾\r\n过去一年，地区生产总值增长5.2%。\r\n二、2024年工作安排\r\n地区生产总值增长5%左右。\r\n"
    seg = segment(text)
    parts = {s.text: s.part for s in seg.sentences}
    assert parts["过去一年，地区生产总值增长5.2%。"] == "review"
    assert parts["地区生产总值增长5%左右。"] == "plan"
    assert parts["各位代表："] == "other"
    for s in seg.sentences:
        assert text[s.start : s.end] == s.text


def test_seed_furniture_skipped(seed_text: str) -> None:
    seg = segment(seed_text)
    skipped = {s.skip: s.text for s in seg.skipped}
    assert skipped["page_marker"] == "(上接2版)"
    assert "编辑:冉建苹" in skipped["byline"]
    assert skipped["title"] == "重庆市渝中区人民政府工作报告"
    assert skipped["masthead"].startswith("全面推动党的二十大精神")
    assert skipped["duplicate"].startswith("建设,扩大“文明实践+”赋能效应")
    texts = [s.text for s in seg.sentences]
    # The first copy of the repeated paragraph is kept, the second is not.
    assert sum(t.startswith("建设,扩大“文明实践+”赋能效应") for t in texts) == 1
    assert "社会消费品零售总额突破1450亿元。" in texts
    assert all(s.part == "plan" for s in seg.sentences), "the seed excerpt is all plan"
    heads = [s.text for s in seg.sentences if s.heading]
    assert "三、全面加强政府自身建设" in heads


def test_seed_sentence_example_offsets(seed_text: str) -> None:
    seg = segment(seed_text)
    s = next(s for s in seg.sentences if s.text == "社会消费品零售总额突破1450亿元。")
    assert (s.start, s.end) == (1252, 1270)  # the GUIDELINES section 4 example


def test_corpus_segments_with_valid_offsets(corpus_files) -> None:
    for f in corpus_files:
        r = read_report(f)
        seg = segment(r.text)
        assert seg.sentences, f
        for s in seg.segments:
            assert r.text[s.start : s.end] == s.text, f
