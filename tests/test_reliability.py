"""Bad input at the reader + segmenter level (issue 6).

Every case ends one of two ways: ``read_report`` returns text whose segmentation has valid raw
offsets, or it raises ``ReadError`` with a message that names the file.
"""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest

from pipeline.errors import ReadError
from pipeline.text.reader import read_report
from pipeline.text.segment import segment

REPORT = (
    "各位代表：\n"
    "一、2023年工作回顾\n"
    "过去一年，全区地区生产总值增长5.2%，城镇新增就业3.1万人。\n"
    "二、2024年工作安排\n"
    "今年经济社会发展的主要预期目标是：地区生产总值增长5%左右，社会消费品零售总额突破1450亿元，"
    "城镇新增就业4.6万人，居民消费价格涨幅3%左右，能耗强度下降3%。\n"
)


def _write(tmp_path: Path, data: bytes, name: str = "report.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _read_and_check(path: Path) -> str:
    """Read a file that must be accepted; check offsets of every segment; return the text."""
    report = read_report(path)
    seg = segment(report.text)
    prev = 0
    for s in seg.segments:
        assert report.text[s.start : s.end] == s.text
        assert s.start >= prev
        prev = s.end
    assert [s.sent_id for s in seg.sentences] == list(range(len(seg.sentences)))
    return report.text


def _rejected(path: Path) -> str:
    with pytest.raises(ReadError) as err:
        read_report(path)
    assert path.name in str(err.value), "the message names the file"
    return str(err.value)


# --- Empty and trivial files ---------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    assert _read_and_check(_write(tmp_path, b"")) == ""
    assert segment("").segments == []


def test_whitespace_only(tmp_path: Path) -> None:
    text = _read_and_check(_write(tmp_path, " \n\t\r\n\u3000\n".encode()))
    assert not segment(text).sentences


def test_report_without_targets(tmp_path: Path) -> None:
    data = "各位代表：\n现在，我代表区人民政府向大会报告工作，请予审议。\n让我们团结一心，开拓进取！\n".encode()
    text = _read_and_check(_write(tmp_path, data))
    assert len(segment(text).sentences) == 3


def test_only_numbers(tmp_path: Path) -> None:
    text = _read_and_check(_write(tmp_path, b"1450\n4.6\n2024 2025\n3%\n"))
    # Bare numbers with no report around them may be marked as page furniture, but every line is
    # still there as a segment.
    assert [s.text for s in segment(text).segments] == ["1450", "4.6", "2024 2025", "3%"]


# --- Binary files and unreadable paths -----------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa" + bytes(
    range(256)
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    "name,data",
    [
        ("pdf", PDF),
        ("png", PNG),
        ("gzip", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4),
        ("random", bytes((i * 7919 + 13) % 256 for i in range(4096))),
    ],
    ids=["pdf", "png", "gzip", "random"],
)
def test_binary_rejected_with_clear_message(tmp_path: Path, name: str, data: bytes) -> None:
    msg = _rejected(_write(tmp_path, data, f"{name}_renamed.txt"))
    assert "binary" in msg or "cannot decode" in msg


def test_directory_rejected(tmp_path: Path) -> None:
    d = tmp_path / "2024_report.txt"
    d.mkdir()
    assert "directory" in _rejected(d)


def test_missing_file_rejected(tmp_path: Path) -> None:
    _rejected(tmp_path / "absent.txt")


def test_unreadable_file_rejected(tmp_path: Path) -> None:
    p = _write(tmp_path, REPORT.encode())
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):  # root (or a capability) reads it anyway: nothing to test
            pytest.skip("running with privileges that ignore file permissions")
        assert "permission" in _rejected(p)
    finally:
        p.chmod(0o644)


def test_permission_error_mapped_to_read_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs even as root: the reader's handling of an unreadable file, whatever the privileges.
    p = _write(tmp_path, REPORT.encode())

    real_open = os.open

    def deny(path: object, *args: object, **kwargs: object) -> int:
        if str(path) == str(p):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    assert "permission" in _rejected(p)


# --- Encodings -------------------------------------------------------------------------------------

TRADITIONAL = (
    "各位代表：\n一、2023年工作回顧\n過去一年，全區地區生產總值增長5.2%，城鎮新增就業3.1萬人。\n"
    "二、2024年工作安排\n今年經濟社會發展的主要預期目標是：地區生產總值增長5%左右，城鎮新增就業4.6萬人。\n"
)
ENCODED = [
    ("gbk", REPORT.encode("gbk"), REPORT),
    ("gb18030", (REPORT + "𠮷").encode("gb18030"), REPORT + "𠮷"),
    ("big5", TRADITIONAL.encode("big5"), TRADITIONAL),
    ("utf-16-le-bom", codecs.BOM_UTF16_LE + REPORT.encode("utf-16-le"), REPORT),
    ("utf-16-be-bom", codecs.BOM_UTF16_BE + REPORT.encode("utf-16-be"), REPORT),
    ("utf-16-le", REPORT.encode("utf-16-le"), REPORT),
    ("utf-16-be", REPORT.encode("utf-16-be"), REPORT),
    ("utf-8-bom", codecs.BOM_UTF8 + REPORT.encode(), REPORT),
]


@pytest.mark.parametrize("label,data,expected", ENCODED, ids=[e[0] for e in ENCODED])
def test_encodings_decoded_right(tmp_path: Path, label: str, data: bytes, expected: str) -> None:
    assert _read_and_check(_write(tmp_path, data)) == expected


def test_utf16_without_bom_mostly_ascii(tmp_path: Path) -> None:
    # Many NUL bytes: their position (high byte of each ASCII character) tells LE from BE.
    text = "GDP growth 5% in 2024, jobs 46000.\n" * 20 + "地区生产总值增长5%左右。\n"
    for enc in ("utf-16-le", "utf-16-be"):
        report = read_report(_write(tmp_path, text.encode(enc), f"{enc}.txt"))
        assert report.text == text and report.encoding == enc


def test_utf16_without_bom_cjk_only(tmp_path: Path) -> None:
    # No ASCII at all, so no NUL bytes to tell LE from BE: plausibility must decide.
    text = "政府工作报告今年经济社会发展的主要预期目标是地区生产总值增长百分之五左右城镇新增就业四万六千人"
    for enc in ("utf-16-le", "utf-16-be"):
        assert _read_and_check(_write(tmp_path, text.encode(enc), f"{enc}.txt")) == text


# --- Text that decodes but is odd -----------------------------------------------------------------


def test_mixed_crlf_and_lf_kept(tmp_path: Path) -> None:
    data = REPORT.replace("\n", "\r\n", 2).encode()
    text = _read_and_check(_write(tmp_path, data))
    assert text.count("\r\n") == 2, "CRLF is kept: offsets refer to the text as read"
    parts = {s.text: s.part for s in segment(text).sentences}
    assert parts["二、2024年工作安排"] == "plan"


def test_cr_only_and_unicode_line_separators(tmp_path: Path) -> None:
    data = REPORT.replace("\n", "\r").replace("各位代表：", "各位代表：\u2028\u0085").encode()
    text = _read_and_check(_write(tmp_path, data))
    parts = {s.text: s.part for s in segment(text).sentences}
    assert parts["一、2023年工作回顾"] == "review" and parts["二、2024年工作安排"] == "plan"


def test_fullwidth_digits_and_letters(tmp_path: Path) -> None:
    data = "今年ＧＤＰ增长５％左右，社会消费品零售总额突破１４５０亿元。\n".encode()
    text = _read_and_check(_write(tmp_path, data))
    assert segment(text).sentences[0].text == text.strip()


def test_nul_and_control_characters(tmp_path: Path) -> None:
    data = ("各位代表：\x00\n过去一年\x07，地区生产总值增长5.2%。\x1b\n" + REPORT).encode()
    text = _read_and_check(_write(tmp_path, data))
    assert "\x00" in text, "nothing is dropped or normalised by the reader"


def test_mostly_control_characters_rejected(tmp_path: Path) -> None:
    _rejected(_write(tmp_path, bytes(range(1, 32)) * 50))


def test_html_remnants(tmp_path: Path) -> None:
    data = (
        "<p>&nbsp;</p>\n&nbsp;\n&nbsp; &nbsp; （一）经济运行稳中向好。<br/>地区生产总值增长6%。\n"
        '<div class="content">今年主要目标：增长5%左右&amp;就业4.6万人。</div>\n' + REPORT
    ).encode()
    text = _read_and_check(_write(tmp_path, data))
    sents = [s.text for s in segment(text).sentences]
    assert "（一）经济运行稳中向好。" in sents, "entities around a sentence are not part of it"
    assert "&nbsp;" not in sents


def test_characters_outside_the_bmp(tmp_path: Path) -> None:
    data = "𠮷野家新开门店𠮷个。\n新增𠮷祥物2个😀。\n".encode()
    text = _read_and_check(_write(tmp_path, data))
    assert [s.text for s in segment(text).sentences] == ["𠮷野家新开门店𠮷个。", "新增𠮷祥物2个😀。"]


def test_truncated_utf16_flagged_not_fatal(tmp_path: Path) -> None:
    data = (codecs.BOM_UTF16_LE + REPORT.encode("utf-16-le"))[:-1]
    report = read_report(_write(tmp_path, data))
    assert report.lossy and report.text.startswith(REPORT[:-1])
    _read_and_check(tmp_path / "report.txt")


def test_truncated_in_a_multibyte_character(tmp_path: Path) -> None:
    data = REPORT.encode()[:-2]
    report = read_report(_write(tmp_path, data))
    assert report.lossy
    _read_and_check(tmp_path / "report.txt")


# --- Size ------------------------------------------------------------------------------------------


def test_long_line_without_punctuation(tmp_path: Path) -> None:
    data = ("地区生产总值增长五个百分点" * 4000)[:50_000].encode()
    t0 = time.perf_counter()
    text = _read_and_check(_write(tmp_path, data))
    assert time.perf_counter() - t0 < 5.0
    assert len(segment(text).sentences) == 1


@pytest.mark.slow
def test_five_million_characters(tmp_path: Path) -> None:
    # Distinct paragraphs (numbered), so that duplicate detection does not make it easy.
    parts: list[str] = []
    size, i = 0, 0
    while size < 5_000_000:
        block = (
            REPORT.replace("5.2%", f"{i}.2%").replace("1450", str(i))
            + f"&nbsp;\n网站首页\n第{i}段"
            + "一二三" * 30
            + "\n"
        )
        parts.append(block)
        size += len(block)
        i += 1
    text_in = "".join(parts)[:5_000_000]
    p = _write(tmp_path, text_in.encode())
    t0 = time.perf_counter()
    report = read_report(p)
    seg = segment(report.text)
    elapsed = time.perf_counter() - t0
    assert len(report.text) == 5_000_000
    assert len(seg.sentences) > 50_000
    assert seg.sentences and seg.sentences[-1].end <= len(report.text)
    for s in seg.segments[:: max(1, len(seg.segments) // 2000)]:
        assert report.text[s.start : s.end] == s.text
    assert elapsed < 60, f"{elapsed:.1f} s"
