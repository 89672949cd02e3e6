"""Stage 1 for Word, PDF and HTML files: bytes → the text every offset refers to.

``extract(data, name, suffix)`` picks the format by content (magic bytes), the file's suffix
only breaking ties, and returns an ``Extracted``: the text, the format, the library that read it
and its version. The text it returns *is* the document: ``pipeline.reader.read_report`` hands
it on, every span's offsets refer to it, and ``govtarget batch`` writes it beside the outputs
as ``<doc_id>.txt`` so anyone can check ``raw[start:end] == text``. Nothing a reader sees in the
file is dropped: running headers, page numbers, site navigation and footers stay in the text
on lines of their own, where ``pipeline.segment`` marks them as furniture (segment decides
from the text alone, so re-segmenting the written ``.txt`` gives the same sentences).

Formats and libraries:

* **.docx** (``PK`` zip holding ``word/document.xml``): python-docx, the maintained reader of
  WordprocessingML. Body paragraphs and tables in document order, one paragraph per line
  (``<w:br/>`` gives a line break too), table cells of a row separated by a tab. Headers,
  footers, footnotes and text boxes are not body text and are not read.
* **PDF** (``%PDF``): pypdfium2, the Python binding of PDFium (Chrome's PDF engine). Chosen over
  pdfplumber because it is a self-contained wheel (no system libraries), 10-50x faster on long
  reports (pdfplumber is pure Python on pdfminer.six), decodes CJK CID fonts through their CMaps,
  and gives each character's box, which is all the layout analysis below needs. Layout: characters
  are grouped into rows by their vertical centre and rows into segments at wide horizontal gaps;
  a page whose segments leave a vertical gutter near the middle is read column by column
  (full-width lines such as titles keep their place); rows in the top or bottom band of a page
  that are page numbers, or recur in that band on other pages, are running headers/footers and
  are written on lines of their own. Wrapped lines are joined into paragraphs (a paragraph
  ends at a short line, an indented line or a wide vertical gap) with nothing inserted between
  CJK characters or digits, a space only between two Latin letters; a paragraph that runs on
  over a page break is joined too, and that page's header/footer lines follow it.
* **HTML** (``<!DOCTYPE html``/``<html``; for ``.html``/``.htm``/``.shtml`` also any markup):
  lxml. Charset from the BOM, then ``<meta charset>``/``http-equiv``, then the XML declaration,
  then the bytes (``reader.decode_bytes``). The visible text of the whole body is written, one
  block element per line, ASCII whitespace collapsed as a browser does; only ``<head>``,
  ``<script>``, ``<style>``, ``<noscript>``, ``<template>`` and comments are left out (not
  visible). The main content (the smallest element holding 80% of the page's running text, by
  CJK clause punctuation outside links) is located with lxml, not cut out: its offsets go into
  ``Extracted.extra`` and a page without any is refused. trafilatura was not chosen: it deletes
  boilerplate, which would drop text silently and leave nothing for segment to mark, and it
  brings five more dependencies.

Errors are ``ReadError`` naming the file: a PDF without a text layer ("no text layer: OCR it
first"), an encrypted PDF, a damaged PDF, a corrupt ``.docx``, a zip that is not a ``.docx``,
a legacy ``.doc``, an HTML page without report text.
"""

from __future__ import annotations

import io
import re
import statistics
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from pipeline.reader import ReadError, decode_bytes

FORMATS: tuple[str, ...] = ("txt", "docx", "pdf", "html")
HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")


@dataclass(frozen=True)
class Extracted:
    """The text of one file as read, and how it was read."""

    text: str
    #: One of ``FORMATS``.
    format: str
    #: The character encoding of a text or HTML file; the format name for .docx and PDF.
    encoding: str
    #: The library that read the file (``""`` for plain text) and its version.
    library: str = ""
    library_version: str = ""
    lossy: bool = False
    #: Format details: ``pages`` (PDF), ``columns`` (PDF pages read as two columns),
    #: ``content_start``/``content_end`` (HTML main content), ``charset_source`` (HTML).
    extra: dict[str, Any] = field(default_factory=dict)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with the package
        return "unknown"


# --------------------------------------------------------------------------- sniffing

_HTML_START = re.compile(rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)
_HTML_ANY = re.compile(rb"<(?:!doctype|html|head|body|meta|title|div|p|table|br|span|script|style|a)[\s>/]", re.I)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _ascii_head(data: bytes, n: int = 2048) -> bytes:
    """The start of ``data`` with any BOM removed and UTF-16 NULs dropped (for sniffing only)."""
    head = data[:n]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if head[:200].count(0) > 20:
        head = head.replace(b"\x00", b"")
    return head


def sniff(data: bytes, suffix: str = "") -> str:
    """The format of ``data``: ``"pdf"``, ``"docx"`` (any zip), ``"ole"`` (legacy Office),
    ``"html"`` or ``"txt"``. Content decides; the suffix only lets a ``.html`` page that does not
    start with ``<!DOCTYPE``/``<html`` still be read as HTML (a ``.txt`` with stray tags stays
    text, so the scraped corpus keeps its offsets)."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    head = _ascii_head(data)
    if _HTML_START.match(head):
        return "html"
    if suffix.lower() in HTML_SUFFIXES and _HTML_ANY.search(head):
        return "html"
    return "txt"


def extract(data: bytes, name: str, suffix: str = "") -> Extracted:
    """Read one file's bytes by its content; raise ReadError naming ``name`` on bad input."""
    fmt = sniff(data, suffix)
    suffix = suffix.lower()
    if fmt == "pdf":
        return read_pdf(data, name)
    if fmt == "docx":
        return read_docx(data, name)
    if fmt == "ole":
        raise ReadError(f"{name}: legacy Word .doc (or another OLE2 Office file): save it as .docx first")
    if fmt == "html":
        return read_html(data, name)
    if suffix == ".docx":
        raise ReadError(f"{name}: corrupt .docx: not a zip archive")
    if suffix == ".pdf":
        raise ReadError(f"{name}: not a PDF (no %PDF header): damaged or not a PDF file")
    text, encoding, lossy = decode_bytes(data, name)
    return Extracted(text, "txt", encoding, lossy=lossy)


# --------------------------------------------------------------------------- .docx


def read_docx(data: bytes, name: str) -> Extracted:
    """Body paragraphs and tables of a .docx in document order, one paragraph per line."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ReadError(f"{name}: corrupt .docx: not a complete zip archive ({e})") from e
    if "word/document.xml" not in names:
        raise ReadError(f"{name}: zip archive without word/document.xml: not a .docx")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        body = d.element.body

        def walk(parent: Any) -> None:
            for el in parent.iterchildren():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "p":
                    lines.append(Paragraph(el, d).text)
                elif tag == "tbl":
                    for row in Table(el, d).rows:
                        cells: list[str] = []
                        last = None
                        for cell in row.cells:
                            if cell._tc is last:  # a merged cell repeats: read it once
                                continue
                            last = cell._tc
                            cells.append(" ".join(p.text for p in cell.paragraphs))
                        lines.append("\t".join(cells))
                elif tag == "sdt":  # content controls wrap paragraphs and tables
                    for sub in el.iterchildren():
                        if sub.tag.rsplit("}", 1)[-1] == "sdtContent":
                            walk(sub)

        walk(body)
    except ReadError:
        raise
    except Exception as e:  # python-docx and lxml raise many kinds on a damaged part
        raise ReadError(f"{name}: corrupt .docx ({type(e).__name__}: {e})") from e
    return Extracted("\n".join(lines), "docx", "docx", "python-docx", _version("python-docx"))


# --------------------------------------------------------------------------- PDF

_PAGE_NUM = re.compile(r"^[-—–－·•\s]*(?:第\s*)?[0-9０-９]{1,4}(?:\s*页)?(?:\s*[/／]\s*[0-9]{1,4}|\s*共\s*[0-9]+\s*页)?[-—–－·•\s]*$")
#: A band this share of the page height at the top and at the bottom holds headers and footers.
_BAND = 0.1


@dataclass
class _Seg:
    """A run of characters on one row of a page (a line, or one column's part of it)."""

    text: str
    x0: float
    x1: float
    y: float  # vertical centre, PDF units (origin bottom left)
    size: float
    col: str = "full"  # "left", "right" or "full"
    furniture: bool = False


def _page_chars(textpage: Any) -> list[tuple[str, float, float, float, float]]:
    import pypdfium2.raw as pdfium_c

    out: list[tuple[str, float, float, float, float]] = []
    raw = textpage.raw
    n = textpage.count_chars()
    pending_high: int | None = None
    for i in range(n):
        if pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
            continue  # spaces and line breaks PDFium made up: layout is ours to decide
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if 0xD800 <= code < 0xDC00:
            pending_high = code
            continue
        if 0xDC00 <= code < 0xE000 and pending_high is not None:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = None
        if code in (0, 0xFFFE, 0xFFFF) or (code < 32 and code != 9) or 0xD800 <= code < 0xE000:
            continue
        ch = chr(code)
        if pdfium_c.FPDFText_IsHyphen(raw, i) == 1:
            ch = "-"
        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
        size = pdfium_c.FPDFText_GetFontSize(raw, i) or (y1 - y0) or 10.0
        out.append((ch, x0, x1, (y0 + y1) / 2, size))
    return out


def _rows(chars: list[tuple[str, float, float, float, float]]) -> list[list[_Seg]]:
    """Rows top-down, each a list of segments left to right."""
    chars = sorted(chars, key=lambda c: (-c[3], c[1]))
    rows: list[list[tuple[str, float, float, float, float]]] = []
    for c in chars:
        if rows and abs(rows[-1][0][3] - c[3]) <= 0.4 * min(rows[-1][0][4], c[4]):
            rows[-1].append(c)
        else:
            rows.append([c])
    out: list[list[_Seg]] = []
    for row in rows:
        row.sort(key=lambda c: c[1])
        size = statistics.median(c[4] for c in row)
        segs: list[_Seg] = []
        cur: list[tuple[str, float, float, float, float]] = []
        for c in row:
            if cur and c[1] - cur[-1][2] > 1.5 * size:
                segs.append(_seg(cur))
                cur = []
            cur.append(c)
        if cur:
            segs.append(_seg(cur))
        segs = [s for s in segs if s.text.strip()]
        if segs:
            out.append(segs)
    return out


def _seg(chars: list[tuple[str, float, float, float, float]]) -> _Seg:
    text = "".join(c[0] for c in chars)
    return _Seg(text, chars[0][1], chars[-1][2], statistics.median(c[3] for c in chars),
                statistics.median(c[4] for c in chars))


def _furniture_key(text: str) -> str:
    return re.sub(r"[0-9０-９]+", "#", "".join(text.split()))


def _mark_page_furniture(pages: list[tuple[float, list[list[_Seg]]]]) -> None:
    """Rows in a page's top or bottom band that are page numbers, or whose text (digits aside)
    recurs in the bands of other pages, are headers/footers."""
    counts: dict[str, int] = {}
    for height, rows in pages:
        for row in rows:
            if row[0].y >= height * (1 - _BAND) or row[0].y <= height * _BAND:
                key = _furniture_key(" ".join(s.text for s in row))
                counts[key] = counts.get(key, 0) + 1
    for height, rows in pages:
        for row in rows:
            if not (row[0].y >= height * (1 - _BAND) or row[0].y <= height * _BAND):
                continue
            text = " ".join(s.text for s in row)
            if len("".join(text.split())) > 60:
                continue
            if _PAGE_NUM.match(text) or (len(pages) > 1 and counts[_furniture_key(text)] > 1):
                for s in row:
                    s.furniture = True


def _assign_columns(width: float, rows: list[list[_Seg]]) -> bool:
    """Find a vertical gutter near the middle of the page; mark segments left/right/full.
    Return True when the page is read as two columns."""
    body = [s for row in rows for s in row if not s.furniture]
    if len(body) < 6:
        return False
    lo, hi = int(width * 0.3), int(width * 0.7)
    best: tuple[int, int] | None = None  # (crossing count, x)
    for x in range(lo, hi + 1, 2):
        crossing = sum(1 for s in body if s.x0 < x < s.x1)
        left = sum(1 for s in body if s.x1 <= x)
        right = sum(1 for s in body if s.x0 >= x)
        if left >= 3 and right >= 3 and crossing <= 0.2 * len(body):
            if best is None or crossing < best[0]:
                best = (crossing, x)
    if best is None:
        return False
    gx = best[1]
    # Two columns means rows shared by both sides, not just a few short lines on one side.
    shared = sum(1 for row in rows if any(s.x1 <= gx for s in row) and any(s.x0 >= gx for s in row))
    if shared < 3:
        return False
    for row in rows:
        for s in row:
            s.col = "left" if s.x1 <= gx else "right" if s.x0 >= gx else "full"
    return True


def _reading_order(rows: list[list[_Seg]], columns: bool) -> list[_Seg]:
    """Header furniture, body in reading order (column by column between full-width lines),
    footer furniture."""
    top: list[_Seg] = []
    bottom: list[_Seg] = []
    body_rows: list[list[_Seg]] = []
    seen_body = False
    for row in rows:
        if all(s.furniture for s in row):
            (bottom if seen_body else top).append(_join_row(row))
        else:
            seen_body = True
            body_rows.append(row)
    order: list[_Seg] = []
    if not columns:
        for row in body_rows:
            order.append(_join_row(row))
    else:
        left: list[_Seg] = []
        right: list[_Seg] = []
        for row in body_rows:
            full = [s for s in row if s.col == "full"]
            if full:
                order.extend(left + right)
                left, right = [], []
                order.append(_join_row(full))
            left.extend(s for s in row if s.col == "left")
            right.extend(s for s in row if s.col == "right")
        order.extend(left + right)
    return top + order + bottom


def _join_row(row: list[_Seg]) -> _Seg:
    if len(row) == 1:
        return row[0]
    s = _Seg(" ".join(x.text for x in row), row[0].x0, row[-1].x1, row[0].y, row[0].size, row[0].col,
             all(x.furniture for x in row))
    return s


def _joiner(prev: str, nxt: str) -> str:
    """What goes between two wrapped lines of one paragraph: a space between Latin letters,
    nothing otherwise (CJK lines, and numbers broken over a line, join directly)."""
    a, b = prev[-1:], nxt[:1]
    if a.isascii() and a.isalpha() and b.isascii() and b.isalpha():
        return " "
    return ""


def _paragraphs(pages: list[list[_Seg]]) -> str:
    """Join wrapped body lines into paragraphs; furniture lines stand alone, placed after the
    paragraph they interrupt."""
    out: list[str] = []
    cur: str | None = None
    cur_seg: _Seg | None = None
    pending: list[str] = []
    prev_edges: dict[str, tuple[float, float]] = {}
    for segs in pages:
        edges: dict[str, tuple[float, float]] = {}  # per column: where its lines start and end
        for col in ("left", "right", "full"):
            xs = [s for s in segs if s.col == col and not s.furniture]
            if xs:
                edges[col] = (min(s.x0 for s in xs), max(s.x1 for s in xs))
        pitch_list = [a.y - b.y for a, b in zip(segs, segs[1:])
                      if not a.furniture and not b.furniture and a.col == b.col and 0 < a.y - b.y]
        pitch = statistics.median(pitch_list) if pitch_list else None
        first_on_page = True
        for s in segs:
            if s.furniture:
                if cur is None:
                    out.append(s.text)
                else:
                    pending.append(s.text)
                continue
            new_para = cur is None or cur_seg is None
            if not new_para:
                assert cur_seg is not None
                left = edges.get(s.col, (s.x0, s.x1))[0]
                # The previous line's column edges: on the previous page for the first line of a page.
                pright = (prev_edges if first_on_page else edges).get(cur_seg.col, (cur_seg.x0, cur_seg.x1))[1]
                size = max(s.size, 1.0)
                if cur_seg.x1 < pright - 1.5 * size:
                    new_para = True  # the previous line stopped short: its paragraph ended
                elif s.x0 > left + 0.9 * size:
                    new_para = True  # indented (or centred): a new paragraph
                elif (not first_on_page and s.col == cur_seg.col and pitch is not None
                      and cur_seg.y - s.y > 1.8 * pitch):
                    new_para = True
            if new_para:
                if cur is not None:
                    out.append(cur)
                out.extend(pending)
                pending = []
                cur = s.text
            else:
                assert cur is not None
                cur += _joiner(cur, s.text) + s.text
            cur_seg = s
            first_on_page = False
        prev_edges = edges
    if cur is not None:
        out.append(cur)
    out.extend(pending)
    return "\n".join(line.rstrip() for line in out) + ("\n" if out else "")


def read_pdf(data: bytes, name: str) -> Extracted:
    """Text of a PDF with a text layer, in reading order; see the module docstring."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReadError(f"{name}: encrypted PDF (a password is needed to open it): decrypt it first") from e
        raise ReadError(f"{name}: not a readable PDF: damaged or truncated ({e})") from e
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise ReadError(f"{name}: PDF without pages")
        pages: list[tuple[float, list[list[_Seg]]]] = []
        widths: list[float] = []
        n_chars = 0
        for i in range(n_pages):
            page = pdf[i]
            try:
                width, height = page.get_size()
                tp = page.get_textpage()
                chars = _page_chars(tp)
                tp.close()
            except pdfium.PdfiumError as e:
                raise ReadError(f"{name}: page {i + 1}: PDFium cannot read it ({e})") from e
            finally:
                page.close()
            n_chars += sum(1 for c in chars if not c[0].isspace())
            pages.append((height, _rows(chars)))
            widths.append(width)
    finally:
        pdf.close()
    if n_chars < 10:
        raise ReadError(f"{name}: no text layer: OCR it first ({n_pages} page(s), {n_chars} characters of text)")
    _mark_page_furniture(pages)
    ordered: list[list[_Seg]] = []
    columns = 0
    for width, (_, rows) in zip(widths, pages):
        two = _assign_columns(width, rows)
        columns += two
        ordered.append(_reading_order(rows, two))
    text = _paragraphs(ordered)
    return Extracted(text, "pdf", "pdf", "pypdfium2", _version("pypdfium2"),
                     extra={"pages": n_pages, "two_column_pages": columns})


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
#: Labels pages declare, and the decoder that reads them (GB2312/GBK pages often hold GB18030).
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                    "big5": "big5hkscs", "x-sjis": "shift_jis", "utf8": "utf-8", "unicode": "utf-16"}
_BLOCK = frozenset(
    "address article aside blockquote body br caption center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul title option "
    "select textarea".split()
)
_INVISIBLE = frozenset("head script style noscript template iframe object embed svg canvas".split())
_CELL = frozenset(("td", "th"))
_CLAUSE = re.compile(r"[，。；！？、]")
_WS = re.compile(r"[ \t\n\r\f]+")


def _html_charset(data: bytes) -> tuple[str | None, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", "bom"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "bom"
    head = data[:4096]
    m = _META_CHARSET.search(head)
    if m:
        return m.group(1).decode("ascii").lower(), "meta"
    m = _XML_ENC.match(head)
    if m:
        return m.group(1).decode("ascii").lower(), "xml"
    return None, "bytes"


def _decode_html(data: bytes, name: str) -> tuple[str, str, str, bool]:
    """``(text, encoding, charset_source, lossy)``."""
    label, source = _html_charset(data)
    if label is not None:
        enc = _CHARSET_ALIASES.get(label, label)
        try:
            return data.decode(enc), enc, source, False
        except LookupError:
            source = f"bytes (unknown charset {label!r} declared)"
        except UnicodeDecodeError:
            source = f"bytes (declared {label!r} does not decode)"
    text, enc, lossy = decode_bytes(data, name)
    return text, enc, source, lossy


class _HtmlText:
    """Serialise an lxml tree to text, one block per line, recording each element's offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.at_line_start = True
        self.pending_space = False
        self.spans: dict[Any, tuple[int, int]] = {}  # by element (a live key: ids of lxml proxies recur)

    def _emit(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def newline(self) -> None:
        self.pending_space = False
        if not self.at_line_start:
            self._emit("\n")
            self.at_line_start = True

    def text(self, s: str, pre: bool = False) -> None:
        if not s:
            return
        if pre:
            for i, line in enumerate(s.split("\n")):
                if i:
                    self.newline()
                if line:
                    self._emit(line)
                    self.at_line_start = False
            return
        lead = s[:1] in " \t\n\r\f"
        trail = s[-1:] in " \t\n\r\f"
        body = _WS.sub(" ", s).strip(" ")
        if not body:
            self.pending_space = self.pending_space or not self.at_line_start
            return
        if (lead or self.pending_space) and not self.at_line_start:
            self._emit(" ")
        self._emit(body)
        self.at_line_start = False
        self.pending_space = trail

    def walk(self, el: Any, pre: bool = False) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower().rsplit("}", 1)[-1]
        if not tag:  # comments and processing instructions: not visible; their tail is
            self.text(el.tail or "", pre)
            return
        if tag in _INVISIBLE:
            self.text(el.tail or "", pre)
            return
        block = tag in _BLOCK
        pre = pre or tag in ("pre", "textarea")
        if block:
            self.newline()
        elif tag in _CELL and not self.at_line_start:
            self._emit("\t")
            self.pending_space = False
        start = self.length
        self.text(el.text or "", pre)
        for child in el:
            self.walk(child, pre)
        if block:
            self.newline()
        self.spans[el] = (start, self.length)
        self.text(el.tail or "", pre)


def _clause_score(el: Any, cache: dict[Any, int]) -> int:
    """Clause punctuation in ``el``'s text outside links."""
    if el in cache:
        return cache[el]
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if not tag or tag in _INVISIBLE:
        score = 0
    else:
        score = 0 if tag == "a" else len(_CLAUSE.findall(el.text or ""))
        for child in el:
            score += _clause_score(child, cache) + len(_CLAUSE.findall(child.tail or ""))
    cache[el] = score
    return score


def read_html(data: bytes, name: str) -> Extracted:
    """Visible text of a saved web page; see the module docstring."""
    import lxml.etree
    import lxml.html

    text, enc, source, lossy = _decode_html(data, name)
    text = _XML_DECL.sub("", text, count=1)  # lxml refuses str input that declares an encoding
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as e:
        raise ReadError(f"{name}: HTML that cannot be parsed ({e})") from e
    body = root.find("body")
    if body is None:
        body = root
    out = _HtmlText()
    out.walk(body)
    # Lines never start or end with a space (see _HtmlText.text), so offsets need no mapping.
    doc = "".join(out.parts).rstrip("\n")
    cache: dict[Any, int] = {}
    total = _clause_score(body, cache)
    if total < 3:
        raise ReadError(f"{name}: HTML page without report text ({total} clause marks of running text outside links: "
                        "an index, navigation or error page?)")
    # The smallest element that holds 80% of the running text.
    main = body
    while True:
        best = max((c for c in main if isinstance(c.tag, str)), key=lambda c: _clause_score(c, cache), default=None)
        if best is None or _clause_score(best, cache) < 0.8 * total:
            break
        main = best
    start, end = out.spans.get(main, (0, len(doc)))
    end = min(end, len(doc))
    extra = {"charset_source": source, "content_start": start, "content_end": end,
             "content_element": main.tag + (f"#{main.get('id')}" if main.get("id") else "")
             + (f".{main.get('class')}" if main.get("class") else "")}
    return Extracted(doc + "\n", "html", enc, "lxml", _version("lxml"), lossy, extra)
