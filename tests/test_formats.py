"""Word, PDF and HTML inputs (pipeline.text.formats behind pipeline.reader.read_report).

PDFs and pages are made here (tests/docmaker.py); the 27 .docx reports of ../shared/corpus2/docx
are read where present and skipped cleanly where absent.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from conftest import SEED, SHARED
from docmaker import make_blank_pdf, make_docx, make_html, make_pdf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.annotation.gold import validate_records
from pipeline.tagging.batch import run_batch
from pipeline.tagging.tagger import Tagger
from pipeline.text.formats import extract, sniff
from pipeline.text.reader import ReadError, read_report
from pipeline.text.segment import segment

DOCX_DIR = SHARED / "corpus2" / "docx"

REPORT = [
    "各位代表：",
    "现在，我代表市人民政府，向大会报告工作，请予审议。",
    "一、2023年工作回顾",
    "过去一年，全市地区生产总值增长6.1%，社会消费品零售总额突破1400亿元，城镇新增就业4.2万人，一般公共预算收入完成98.6亿元。",
    "二、2024年工作安排",
    "今年经济社会发展的主要预期目标是：地区生产总值增长5.5%左右，城镇新增就业4.6万人，居民消费价格涨幅3%左右，"
    "单位地区生产总值能耗下降3%，粮食产量稳定在120万吨以上，完成固定资产投资增长8%，实际使用外资2亿美元。",
    "（一）着力扩大有效需求。深入实施扩大内需战略，社会消费品零售总额突破1450亿元，新增市场主体1.5万户，建成5G基站3000个，"
    "推进城市更新项目30个，完成老旧小区改造120个，新增停车位5000个，打造夜间消费集聚区10个。",
    "（二）加快建设现代化产业体系。规模以上工业增加值增长7%，新增高新技术企业200家，研发经费投入强度达到2.5%，"
    "数字经济核心产业增加值占地区生产总值比重提高1个百分点，培育专精特新中小企业50家，新建标准化厂房100万平方米。",
    "（三）持续增进民生福祉。新增学位1.2万个，新建养老服务中心15个，城乡居民人均可支配收入增长6%，"
    "新增城镇保障性住房2000套，开展职业技能培训3万人次，实施重点民生实事20件。",
    "各位代表！让我们团结一心，开拓进取，为全面建设社会主义现代化国家作出新的更大贡献！",
]

_TAGGER: Tagger | None = None


def _rules() -> Tagger:
    global _TAGGER
    if _TAGGER is None:
        _TAGGER = Tagger.load("rules")
    return _TAGGER


def _targets(text: str) -> list[tuple]:
    doc = _rules()(text, "r")
    for t in doc.targets():
        assert text[t.start : t.end] == t.text
    return [(t.text, t.category, t.value, t.unit, t.bound, t.direction, t.value_max) for t in doc.targets()]


def _categories(text: str) -> list[tuple[str, str]]:
    return [(s.text, s.category) for s in _rules()(text, "r").sentences if s.targets]


def _check_offsets(text: str) -> None:
    for s in segment(text).segments:
        assert text[s.start : s.end] == s.text


def _kept_lines(text: str) -> list[str]:
    """The text's lines without the ones segment marks as furniture."""
    skipped = {(s.start, s.end) for s in segment(text).skipped}
    out = []
    pos = 0
    for line in text.split("\n"):
        a, b = pos, pos + len(line)
        pos = b + 1
        if line.strip() and (a, b) not in skipped:
            out.append(line.strip())
    return out


def _seed_paragraphs() -> list[str]:
    # U+00B7 ("记忆·山城") is left out: reportlab's non-embedded STSong-Light writes it with a code
    # pdfminer.six cannot map back, so a test PDF would lack it (a limit of the test font; real
    # report PDFs embed their fonts with a ToUnicode map).
    text = SEED.read_text(encoding="utf-8").replace("·", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------- sniffing


def test_format_is_chosen_by_content_not_extension(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", REPORT).read_bytes()
    docx = make_docx(tmp_path / "a.docx", REPORT).read_bytes()
    assert sniff(pdf, ".txt") == "pdf" and sniff(docx, ".txt") == "docx"
    assert sniff(b"\xef\xbb\xbf<!DOCTYPE html><html><body><p>x</p></body></html>", ".txt") == "html"
    assert sniff(b"  <html lang='zh'><body>x</body></html>", "") == "html"
    # Scraped text with stray tags stays text (the corpus' offsets must not move) …
    assert sniff("<p>各位代表：</p>\n现在，我代表。".encode(), ".txt") == "txt"
    # … but a saved page without a doctype is HTML when it says so.
    assert sniff("<div><p>各位代表：</p></div>".encode(), ".shtml") == "html"
    renamed = tmp_path / "report.txt"
    renamed.write_bytes(pdf)
    rep = read_report(renamed)
    assert rep.format == "pdf" and rep.library == "pdfplumber" and rep.library_version
    (tmp_path / "page.dat").write_bytes(docx)
    assert read_report(tmp_path / "page.dat").format == "docx"


# --------------------------------------------------------------------------- PDF


def test_pdf_paragraphs_headers_and_page_numbers(tmp_path: Path) -> None:
    paras = _seed_paragraphs()
    rep = read_report(make_pdf(tmp_path / "seed.pdf", paras))
    assert rep.format == "pdf" and rep.extra["pages"] >= 5
    lines = rep.text.splitlines()
    # Every paragraph comes back whole, once, in order: wrapped lines and page breaks joined.
    body = [line for line in lines if line != "某某市人民政府工作报告" and not line.startswith("- ")]
    assert body == paras
    # Running headers and page numbers are in the text (never dropped) and are furniture.
    seg = segment(rep.text)
    skips = {s.text: s.skip for s in seg.skipped}
    assert sum(line == "某某市人民政府工作报告" for line in lines) == rep.extra["pages"]
    assert skips["某某市人民政府工作报告"] == "title"
    assert [line for line in lines if line.startswith("- ")] == [f"- {i} -" for i in range(1, rep.extra["pages"] + 1)]
    assert all(skips[f"- {i} -"] == "page_number" for i in range(1, rep.extra["pages"] + 1))
    _check_offsets(rep.text)


def test_two_column_pdf_is_read_column_by_column(tmp_path: Path) -> None:
    paras = _seed_paragraphs()
    rep = read_report(make_pdf(tmp_path / "two.pdf", paras, columns=2, title="重庆市渝中区政府工作报告"))
    # The last page may hold the left column only: read as one column, which is the same thing.
    assert rep.extra["two_column_pages"] >= rep.extra["pages"] - 1 >= 4
    lines = rep.text.splitlines()
    assert lines[:2] == ["某某市人民政府工作报告", "重庆市渝中区政府工作报告"]
    body = [line for line in lines[2:] if line != "某某市人民政府工作报告" and not line.startswith("- ")]
    assert body == paras, "drawn row by row across both columns, read column by column"


def test_pdf_line_joins_insert_nothing_between_cjk_or_digits(tmp_path: Path) -> None:
    long = "地区生产总值增长5.5%左右" * 12 + "，城镇新增就业4.6万人，实际使用外资12345.67万美元" * 6 + "。"
    latin = "推进共建Belt and Road Initiative项目，" * 8 + "深化合作。"
    rep = read_report(make_pdf(tmp_path / "j.pdf", [long, latin], header=None))
    lines = rep.text.splitlines()
    assert lines[0] == long
    assert lines[1] == latin, "a space only where two Latin letters meet at a line break"
    assert lines[2] == "- 1 -"


def test_pdf_wide_latin_word_moved_to_next_line_does_not_end_the_paragraph(tmp_path: Path) -> None:
    # A run of capitals is wider than 0.6 em a letter (G .73, D .74, W .97 em in STSong-Light):
    # the gap it leaves at the end of the line above must be measured, not guessed, or the
    # paragraph is split there (found by the property below).
    paras = [
        "政" * 35 + "推" * 29 + "WWWWWWWWWW" + "开放" * 20 + "。",  # a 96 pt gap; 10 W: 117 pt
        "政" * 35 + "进" * 31 + "HWMWHOMW" + "开放" * 20 + "。",  # a 72 pt gap; HWMWHOMW: 85 pt
    ]
    rep = read_report(make_pdf(tmp_path / "w.pdf", paras, header=None))
    assert rep.text.splitlines()[:2] == paras


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    p = make_blank_pdf(tmp_path / "scan.pdf")
    with pytest.raises(ReadError, match=r"scan\.pdf: no text layer: OCR it first"):
        read_report(p)


def test_encrypted_pdf(tmp_path: Path) -> None:
    p = make_pdf(tmp_path / "locked.pdf", REPORT, encrypt="secret")
    with pytest.raises(ReadError, match=r"locked\.pdf: encrypted PDF"):
        read_report(p)


def test_truncated_and_fake_pdf(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "full.pdf", REPORT).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 3])
    try:
        rep = read_report(cut)  # PDFium repairs what it can: then the text is what it found
        _check_offsets(rep.text)
    except ReadError as e:
        assert "cut.pdf" in str(e)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes("各位代表：这不是PDF。".encode())
    with pytest.raises(ReadError, match=r"fake\.pdf: not a PDF"):
        read_report(fake)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with pytest.raises(ReadError, match=r"junk\.pdf: not a readable PDF"):
        read_report(junk)


# --------------------------------------------------------------------------- .docx


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("各位代表：")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "指标", "目标"
    t.cell(1, 0).text, t.cell(1, 1).text = "地区生产总值", "增长5.5%左右"
    d.add_paragraph("城镇新增就业4.6万人。")
    p = tmp_path / "t.docx"
    d.save(str(p))
    rep = read_report(p)
    assert rep.text == "各位代表：\n指标\t目标\n地区生产总值\t增长5.5%左右\n城镇新增就业4.6万人。"
    assert (rep.format, rep.library) == ("docx", "python-docx")


def test_corrupt_docx_and_other_archives(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx", REPORT).read_bytes()
    cases = {
        "cut.docx": (good[: len(good) // 2], r"cut\.docx: corrupt \.docx"),
        "text.docx": ("各位代表：".encode(), r"text\.docx: corrupt \.docx: not a zip"),
        "legacy.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"legacy\.doc: legacy Word \.doc"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    cases["sheet.docx"] = (buf.getvalue(), r"sheet\.docx: zip archive without word/document\.xml")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as z:
        for n in src.namelist():
            z.writestr(n, b"<w:document>broken" if n == "word/document.xml" else src.read(n))
    cases["badxml.docx"] = (buf.getvalue(), r"badxml\.docx: corrupt \.docx")
    for name, (data, pattern) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ReadError, match=pattern):
            read_report(tmp_path / name)


docx_files = sorted(DOCX_DIR.glob("*.docx")) if DOCX_DIR.exists() else []


@pytest.mark.corpus
@pytest.mark.skipif(not docx_files, reason="../shared/corpus2/docx is absent")
def test_corpus2_docx_reports() -> None:
    assert len(docx_files) == 27
    for f in docx_files:
        rep = read_report(f)
        assert rep.format == "docx" and len(rep.text) > 5000, f.name
        seg = segment(rep.text)
        _check_offsets(rep.text)
        first = seg.sentences[0]
        before = [s for s in seg.segments if s.start < first.start]
        # The newspaper source line ("来源：四川日报"), the title and the delivery line are
        # furniture; the report starts with the address to the deputies.
        assert first.text.startswith("各位代表"), (f.name, first.text)
        assert before and all(s.skip for s in before), f.name
        assert any(s.text.startswith("来源") for s in before) or "来源" not in rep.text[: first.start], f.name
        assert _targets(rep.text), f.name


# --------------------------------------------------------------------------- HTML


def test_html_charset_from_meta_bom_and_bytes(tmp_path: Path) -> None:
    want = _kept_lines("\n".join(REPORT))
    for name, kwargs in {
        "gbk.html": {"charset": "gbk"},
        "gb2312.htm": {"charset": "gb2312"},
        "utf8.shtml": {"charset": "utf-8"},
        "nometa.html": {"charset": "gbk", "meta": False},
    }.items():
        rep = read_report(make_html(tmp_path / name, REPORT, **kwargs))
        assert rep.format == "html" and rep.library == "lxml", name
        assert _kept_lines(rep.text) == want, name
    assert read_report(tmp_path / "nometa.html").extra["charset_source"] == "bytes"
    # A page that declares UTF-8 but holds GBK is read from its bytes.
    lying = (tmp_path / "gbk.html").read_bytes().replace(b"charset=gbk", b"charset=utf-8")
    (tmp_path / "lying.html").write_bytes(lying)
    rep = read_report(tmp_path / "lying.html")
    assert rep.encoding.startswith("gb") and "does not decode" in rep.extra["charset_source"]
    bom = tmp_path / "bom.html"
    bom.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "utf8.shtml").read_bytes())
    assert _kept_lines(read_report(bom).text) == want


def test_html_chrome_is_in_the_text_and_marked_as_furniture(tmp_path: Path) -> None:
    rep = read_report(make_html(tmp_path / "page.html", REPORT, title="2024年某某市政府工作报告"))
    text = rep.text
    seg = segment(text)
    reason = {s.text: s.skip for s in seg.segments}
    # Site chrome stays in the document text (nothing silently deleted) …
    for chrome in (
        "首页",
        "当前位置：首页 > 政务公开 > 政策文件",
        "分享：微信 微博 QQ空间",
        "扫一扫在手机打开当前页",
        "相关报道",
        "网站地图 | 联系我们 | 使用帮助",
    ):
        assert chrome in text
    assert "不是正文" not in text and "font-size" not in text, "scripts and styles are not visible text"
    # … and is furniture, each for its reason.
    assert reason["首页"] in ("masthead", "navigation")
    assert reason["当前位置：首页 > 政务公开 > 政策文件"] in ("byline", "navigation")
    assert reason["分享：微信 微博 QQ空间"] == "web_chrome"
    assert reason["扫一扫在手机打开当前页"] == "web_chrome"
    assert reason["相关报道"] == "related"
    assert all(v == "related" for k, v in reason.items() if k.startswith(("市政府召开", "我市一季度", "市长主持")))
    assert reason["网站标识码：5001030001　渝ICP备05003300号　渝公网安备50010302000001号"] == "web_chrome"
    # Every kept sentence lies in the main content lxml located; the report is all there.
    a, b = rep.extra["content_start"], rep.extra["content_end"]
    assert all(a <= s.start and s.end <= b for s in seg.sentences)
    assert [s.text for s in seg.sentences] == [s.text for s in segment("\n".join(REPORT)).sentences]
    _check_offsets(text)


def test_html_without_report_text(tmp_path: Path) -> None:
    p = tmp_path / "index.html"
    menu = "".join(f"<li><a href='/{i}'>栏目{i}</a></li>" for i in range(30))
    p.write_text(f"<!DOCTYPE html><html><body><ul>{menu}</ul><p>版权所有</p></body></html>", encoding="utf-8")
    with pytest.raises(ReadError, match=r"index\.html: HTML page without report text"):
        read_report(p)


# --------------------------------------------------------------------------- one report, four formats


@pytest.mark.parametrize("paragraphs", ["seed", "short"])
def test_same_report_in_every_format_gives_the_same_targets(tmp_path: Path, paragraphs: str) -> None:
    paras = _seed_paragraphs() if paragraphs == "seed" else REPORT
    txt = tmp_path / "r.txt"
    txt.write_text("\n".join(paras) + "\n", encoding="utf-8")
    files = [
        txt,
        make_docx(tmp_path / "r.docx", paras),
        make_pdf(tmp_path / "r.pdf", paras),
        make_pdf(tmp_path / "r2.pdf", paras, columns=2, title="政府工作报告"),
        make_html(tmp_path / "r.html", paras, charset="gbk"),
    ]
    want = _targets(read_report(txt).text)
    cats = _categories(read_report(txt).text)
    assert len(want) >= 20
    for f in files[1:]:
        text = read_report(f).text
        assert _targets(text) == want, f.name
        assert _categories(text) == cats, f.name


# --------------------------------------------------------------------------- properties

_CJK = st.sampled_from(
    list("政府工作报告经济社会发展推进改革开放城市服务企业项目全面加强深化实施完成增长亿元万人保障提升")
)
_PARA = st.lists(
    st.one_of(_CJK, _CJK, _CJK, st.sampled_from(list("0123456789.%，、；")), st.just("GDP")), min_size=80, max_size=200
).map(lambda xs: "".join(xs) + "。")
# 80+ pieces: every paragraph wraps. (On a page where no paragraph wraps, the column's edges
# are unknown and single-line paragraphs can be joined: a known limit.)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paras=st.lists(_PARA, min_size=3, max_size=12, unique=True))  # 3+: a page needs report text
@example(  # a line ending in a 15-letter run's gap, 120.5 pt, wider than the 120 pt estimate
    paras=[
        "政政万政政政政政市政政政面增政政政政政政政政政政政政政政政政政政政政政政政政政政政政政城政政政政政政政政政政政政政政政政政"
        "障政政政政政政政政进成保万政政政政长政。",
        "政政政政政政全障政政政政政政政政政政政政革政政政政政政政政政政政政政政保政政政政政政政政政政政政政政市政政服政政政政政政政"
        "政政政政政政政政业政加政政推政政政政政政业GDPGDP政推推政GDP政GDP.GDPGDP报完GDP。",
        "GDPGDPGDPGDP4，GDP革GDP9GDP增保7GDP1元GDP全务实务GDPGDP7完1成1人人府务GDPGDP政GDP强作GDPGDP.25作8GDP社改保工GDPGDP"
        "GDPGDPGDP.市障元化GDP障1%GDP经会4会1升GDPGDP1经GDPGDP903，5GDPGDPGDPGDPGDP%GDPGDP展0、4市增深GDPGDP0亿告GDP元完"
        "GDPGDPGDP长，GDPGDP府%改GDPGDPGDP人GDPGDP改进府GDP9.报施GDPGDPGDPGDP企GDP全放政GDP改保实GDP%2GDPGDPGDP、GDP9全开"
        "服面府GDP强GDP告6，，，、万GDPGDP4增GDP6实75GDPGDPGDPGDP府，GDP5业GDP2革GDP4GDP9；%5目业府GDP工。",
    ]
)
def test_property_every_paragraph_survives_and_offsets_hold(tmp_path: Path, paras: list[str]) -> None:
    for kind in ("pdf", "html", "docx"):
        path = tmp_path / f"p.{kind}"
        if kind == "pdf":
            # One column: a lone page whose right column stays empty cannot be told from a
            # one-column page of short lines (the two-column tests above fill their pages).
            make_pdf(path, paras)
        elif kind == "html":
            make_html(path, paras)
        else:
            make_docx(path, paras)
        text = read_report(path).text
        lines = [line.strip("\u3000 ") for line in text.splitlines()]
        for p in paras:
            assert p in lines, (kind, p)  # a paragraph comes back whole, on a line of its own
        _check_offsets(text)
        doc = _rules()(text, "p")
        for s in doc.sentences:
            assert text[s.start : s.end] == s.text
            assert all(text[t.start : t.end] == t.text for t in s.targets)


# --------------------------------------------------------------------------- batch and CLI


def test_batch_reads_every_format_and_keeps_the_text(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("\n".join(REPORT) + "\n", encoding="utf-8")
    make_docx(src / "b.docx", REPORT)
    make_pdf(src / "c.pdf", REPORT)
    make_html(src / "d.html", REPORT, charset="gbk")
    make_blank_pdf(src / "scan.pdf")
    (src / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    out = tmp_path / "out"
    s = run_batch([src], out, progress=False)
    by = {r.doc_id: r for r in s.results}
    assert by["scan"].status == "failed" and "no text layer: OCR it first" in by["scan"].reason
    assert by["broken"].status == "failed" and "broken.docx: corrupt .docx" in by["broken"].reason
    assert {k: (r.status, r.format, r.library) for k, r in by.items() if r.status == "ok"} == {
        "a": ("ok", "txt", ""),
        "b": ("ok", "docx", "python-docx"),
        "c": ("ok", "pdf", "pdfplumber"),
        "d": ("ok", "html", "lxml"),
    }
    assert len({r.targets for r in by.values() if r.status == "ok"}) == 1
    assert not (out / "a.txt").exists(), "a text input is its own text"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    detail = {d["doc_id"]: d for d in summary["documents_detail"]}
    assert detail["c"]["library_version"] and detail["c"]["text_file"] == "c.txt"
    manifest = [json.loads(line) for line in (out / "manifest.ndjson").read_text(encoding="utf-8").splitlines()]
    assert {e["doc_id"]: e["input_format"] for e in manifest} == {"a": "txt", "b": "docx", "c": "pdf", "d": "html"}
    for doc_id in "bcd":
        raw = (out / f"{doc_id}.txt").read_text(encoding="utf-8")
        recs = [
            (i + 1, json.loads(line))
            for i, line in enumerate((out / f"{doc_id}.jsonl").read_text(encoding="utf-8").splitlines())
        ]
        assert validate_records(recs, raw, doc_id) == [], doc_id  # the records hold against the written text
        assert [r["start"] for _, r in recs] == [x.start for x in segment(raw).sentences]
    # Rerun: all skipped; a deleted extracted text is redone.
    (out / "c.txt").unlink()
    again = {r.doc_id: r for r in run_batch([src], out, progress=False).results}
    assert again["c"].status == "ok" and again["c"].reason == "extracted text missing or modified"
    assert again["b"].status == "skipped" and (out / "c.txt").exists()


def test_cli_tag_and_segment_accept_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    files = [
        make_docx(tmp_path / "r.docx", REPORT),
        make_pdf(tmp_path / "r.pdf", REPORT),
        make_html(tmp_path / "r.htm", REPORT),
    ]
    for f in files:
        assert main(["tag", "--model", "rules", "--format", "jsonl", str(f)]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(rows) == len(_targets("\n".join(REPORT))), f.name
        assert main(["segment", str(f)]) == 0
        capsys.readouterr()
    scan = make_blank_pdf(tmp_path / "scan.pdf")
    assert main(["tag", "--model", "rules", str(scan), str(files[0])]) == 1
    err = capsys.readouterr().err
    assert "scan.pdf: no text layer: OCR it first" in err


@pytest.mark.corpus
@pytest.mark.skipif(not docx_files, reason="../shared/corpus2/docx is absent")
def test_extract_is_fast_enough_on_the_corpus_docx() -> None:
    t0 = time.perf_counter()
    for f in docx_files:
        extract(f.read_bytes(), str(f), f.suffix)
    assert time.perf_counter() - t0 < 30
