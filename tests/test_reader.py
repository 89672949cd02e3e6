from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ReadError
from pipeline.text.reader import decode_bytes, read_report
from pipeline.text.textnorm import normalize

SAMPLE = "今年经济社会发展的主要预期目标是：地区生产总值增长5.5%左右，城镇新增就业4.6万人，居民消费价格涨幅3%左右。\r\n"


@pytest.mark.parametrize(
    "encoding,data",
    [
        ("utf-8", SAMPLE.encode("utf-8")),
        ("utf-8-sig", codecs.BOM_UTF8 + SAMPLE.encode("utf-8")),
        ("gb18030", SAMPLE.encode("gb18030")),
        ("gbk", SAMPLE.encode("gbk")),
        ("utf-16", SAMPLE.encode("utf-16")),
        ("utf-16-le", SAMPLE.encode("utf-16-le")),
    ],
)
def test_encodings_round_trip(encoding: str, data: bytes) -> None:
    text, detected, lossy = decode_bytes(data, "x.txt")
    assert text == SAMPLE
    assert not lossy


def test_big5_detected() -> None:
    trad = "今年經濟社會發展的主要預期目標是：地區生產總值增長5.5%左右，城鎮新增就業4.6萬人。這是我們的工作。"
    text, enc, _ = decode_bytes(trad.encode("big5"), "x.txt")
    assert text == trad and enc == "big5"


def test_short_gbk_not_mistaken_for_big5() -> None:
    text, enc, _ = decode_bytes("政府工作报告".encode("gbk"), "x.txt")
    assert text == "政府工作报告"


def test_binary_rejected_with_name(tmp_path) -> None:
    p = tmp_path / "report.txt"
    p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n\x00\x01\x02\xff\xfe")
    with pytest.raises(ReadError, match="report.txt"):
        read_report(p)


def test_truncated_utf8_is_flagged_not_fatal(tmp_path) -> None:
    p = tmp_path / "cut.txt"
    data = ("第一行。\n" * 50 + "地区生产总值增长").encode("utf-8")
    p.write_bytes(data[:-1])
    r = read_report(p)
    assert r.lossy and r.text.startswith("第一行。")


@given(st.text())
def test_utf8_round_trip_any_text(text: str) -> None:
    data = text.encode("utf-8", errors="surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        decoded, _, _ = decode_bytes(data, "x")
    except ReadError:
        return  # mostly control characters: rejected as binary, with a message
    assert decoded == text


@given(st.text())
def test_normalize_keeps_length(text: str) -> None:
    assert len(normalize(text)) == len(text)


def test_normalize_fullwidth() -> None:
    assert normalize("１４５０亿元，ＧＤＰ") == "1450亿元，GDP"
