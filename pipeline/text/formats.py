"""Stage 1 for Word, PDF and HTML files: bytes → the text every offset refers to.

``extract(data, name, suffix)`` picks the format by content (magic bytes), the file's suffix
only breaking ties, and returns an ``Extracted``: the text, the format, the library that read it
and its version. The text it returns *is* the document: ``pipeline.reader.read_report`` hands
it on, every span's offsets refer to it, and ``govtarget batch`` writes it beside the outputs
as ``<doc_id>.txt`` so anyone can check ``raw[start:end] == text``. Nothing a reader sees in the
file is dropped: running headers, page numbers, site navigation and footers stay in the text
on lines of their own, where ``pipeline.text.segment`` marks them as furniture (segment decides
from the text alone, so re-segmenting the written ``.txt`` gives the same sentences).

Formats and libraries:

* **.docx** (``PK`` zip holding ``word/document.xml``): python-docx, the maintained reader of
  WordprocessingML. Body paragraphs and tables in document order, one paragraph per line
  (``<w:br/>`` gives a line break too), table cells of a row separated by a tab. Headers,
  footers, footnotes and text boxes are not body text and are not read.
* **PDF** (``%PDF``): pdfplumber (on pdfminer.six), pure Python, MIT. It gives every character
  with its exact box and decodes CJK CID fonts through the Adobe CMaps it ships, which is all the
  layout analysis below needs. pypdfium2 (PDFium) was tried first and is about 3x faster, but
  PDFium's text layer silently drops a text object that repeats one just before it at the same
  place (its fake-bold filter): on a two-column test page it lost a real "。", and text must
  never be dropped. pdfplumber reads about 20 pages a second here. Layout: characters
  are grouped into rows by their vertical centre and rows into segments at wide horizontal gaps;
  a page whose segments leave a vertical gutter near the middle is read column by column
  (full-width lines such as titles keep their place); rows in the top or bottom band of a page
  that are page numbers, or recur in that band on other pages, are running headers/footers and
  are written on lines of their own. Wrapped lines are joined into paragraphs (a paragraph
  ends at a short line, unless the next line's first Latin word, measured on the page, did not
  fit in the gap; at an indented line; or at a wide vertical gap) with nothing inserted between
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
import itertools
import re
import statistics
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from pipeline.text.reader import ReadError, decode_bytes

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

_PAGE_NUM = re.compile(
    r"^[-—–－·•\s]*(?:第\s*)?[0-9０-９]{1,4}(?:\s*页)?(?:\s*[/／]\s*[0-9]{1,4}|\s*共\s*[0-9]+\s*页)?[-—–－·•\s]*$"
)
#: A band this share of the page height at the top and at the bottom holds headers and footers.
_BAND = 0.1


_Char = tuple[str, float, float, float, float]  # text, x0, x1, vertical centre, font size


@dataclass
class _Seg:
    """A line of a page in reading order: a whole row, or one column's part of it."""

    text: str
    x0: float
    x1: float
    y: float  # vertical centre, PDF units (origin bottom left)
    size: float
    col: str = "full"  # "left", "right" or "full"
    furniture: bool = False
    lead: float = 0.0  # width of the run of Latin letters and digits the line starts with (0: none)


def _page_chars(page: Any) -> list[_Char]:
    """The characters pdfminer.six found on a pdfplumber page, in PDF units (origin bottom left)."""
    out: list[_Char] = []
    height = float(page.height)
    for c in page.chars:
        text = "".join(ch for ch in c["text"] if ch == "\t" or (ord(ch) >= 32 and ch not in "\ufffe\uffff"))
        if not text:
            continue
        size = float(c.get("size") or (c["bottom"] - c["top"]) or 10.0)
        out.append((text, float(c["x0"]), float(c["x1"]), height - (float(c["top"]) + float(c["bottom"])) / 2, size))
    return out


def _rows(chars: list[_Char]) -> list[list[_Char]]:
    """Characters grouped into rows by vertical centre, rows top-down, each left to right."""
    chars = sorted(chars, key=lambda c: (-c[3], c[1]))
    rows: list[list[_Char]] = []
    for c in chars:
        if rows and abs(rows[-1][0][3] - c[3]) <= 0.4 * min(rows[-1][0][4], c[4]):
            rows[-1].append(c)
        else:
            rows.append([c])
    out = []
    for row in rows:
        row.sort(key=lambda c: c[1])
        if any(not c[0].isspace() for c in row):
            out.append(row)
    return out


def _seg(chars: list[_Char], col: str = "full", furniture: bool = False) -> _Seg:
    """A segment of ``chars`` (one row, left to right); a wide gap inside reads as one space.
    Spaces at either end are kept (a space wrapped to a line's start or end still separates
    words once lines are joined); its box is that of its visible characters."""
    size = statistics.median(c[4] for c in chars)
    parts: list[str] = []
    for i, c in enumerate(chars):
        if i and c[1] - chars[i - 1][2] > 1.5 * size and not parts[-1].isspace() and not c[0].isspace():
            parts.append(" ")
        parts.append(c[0])
    ink = [c for c in chars if not c[0].isspace()] or chars
    head = itertools.dropwhile(lambda c: c[0].isspace(), chars)
    word = list(itertools.takewhile(lambda c: c[0].isascii() and c[0].isalnum(), head))
    lead = word[-1][2] - word[0][1] if word else 0.0
    return _Seg("".join(parts), ink[0][1], ink[-1][2], statistics.median(c[3] for c in ink), size, col, furniture, lead)


def _furniture_key(text: str) -> str:
    return re.sub(r"[0-9０-９]+", "#", "".join(text.split()))


def _in_band(row: list[_Char], height: float) -> bool:
    y = row[0][3]
    return y >= height * (1 - _BAND) or y <= height * _BAND


def _page_furniture(pages: list[tuple[float, list[list[_Char]]]]) -> list[list[bool]]:
    """Per page and row: is it a header/footer? Rows in a page's top or bottom band that are
    page numbers, are set off from the body by a gap of more than two line pitches, or whose
    text (digits aside) recurs in the bands of other pages."""
    counts: dict[str, int] = {}
    for height, rows in pages:
        for row in rows:
            if _in_band(row, height):
                key = _furniture_key(_seg(row).text.strip())
                counts[key] = counts.get(key, 0) + 1
    flags: list[list[bool]] = []
    for height, rows in pages:
        ys = [r[0][3] for r in rows]
        gaps = [a - b for a, b in zip(ys, ys[1:])]
        size = statistics.median(c[4] for r in rows for c in r) if rows else 10.0
        line_gaps = [g for g in gaps if 0 < g < 3 * size]  # a pitch of body lines, not the margins
        pitch = statistics.median(line_gaps) if line_gaps else 1.5 * size
        page_flags = []
        for i, row in enumerate(rows):
            text = _seg(row).text.strip()
            # The first or last row of a page, set off from the body by a wide gap.
            isolated = len(rows) > 1 and (
                (i == 0 and gaps[0] > 2 * pitch) or (i == len(rows) - 1 and gaps[-1] > 2 * pitch)
            )
            page_flags.append(
                _in_band(row, height)
                and len("".join(text.split())) <= 60
                and bool(_PAGE_NUM.match(text) or isolated or (len(pages) > 1 and counts[_furniture_key(text)] > 1))
            )
        flags.append(page_flags)
    return flags


def _runs(row: list[_Char]) -> list[tuple[float, float]]:
    """The x-intervals a row's characters cover, neighbours closer than a third of a character merged."""
    out: list[tuple[float, float]] = []
    for c in row:
        if c[0].isspace():
            continue
        if out and c[1] - out[-1][1] < 0.3 * c[4]:
            out[-1] = (out[-1][0], max(out[-1][1], c[2]))
        else:
            out.append((c[1], c[2]))
    return out


def _gutter(width: float, rows: list[list[_Char]]) -> float | None:
    """The x of a vertical gutter near the middle of the page that body rows have text on both
    sides of and at most a fifth of them cross (titles), or None. Body text of a one-column page
    crosses the middle on most rows; a page of short lines (a list, a table) with text on both
    sides passes and is read column by column: tables are a known limit."""
    if len(rows) < 6:
        return None
    runs = [_runs(r) for r in rows]
    best: tuple[int, int] | None = None
    best_xs: list[float] = []
    for x in range(int(width * 0.3), int(width * 0.7) + 1):
        crossing = sum(1 for rr in runs if any(a < x < b for a, b in rr))
        if crossing > 0.2 * len(rows):
            continue
        shared = sum(
            1
            for rr in runs
            if not any(a < x < b for a, b in rr) and any(b <= x for _, b in rr) and any(a >= x for a, _ in rr)
        )
        if shared < 1:
            continue
        score = (crossing, -shared)
        if best is None or score < best:
            best, best_xs = score, [x]
        elif score == best and x == best_xs[-1] + 1:
            best_xs.append(x)  # the middle of the widest stretch with the best score
    return statistics.median(best_xs) if best_xs else None


def _reading_order(rows: list[list[_Char]], furniture: list[bool], gutter: float | None) -> list[_Seg]:
    """Header rows, the body in reading order (column by column between full-width lines),
    footer rows."""
    top: list[_Seg] = []
    bottom: list[_Seg] = []
    order: list[_Seg] = []
    left: list[_Seg] = []
    right: list[_Seg] = []
    seen_body = False
    for row, furn in zip(rows, furniture):
        if furn:
            (bottom if seen_body else top).append(_seg(row, furniture=True))
            continue
        seen_body = True
        if gutter is None:
            order.append(_seg(row))
            continue
        if any(c[1] < gutter < c[2] for c in row if not c[0].isspace()):
            order.extend(left + right)  # a full-width line (a title): the columns above are done
            left, right = [], []
            order.append(_seg(row))
            continue
        lc = [c for c in row if c[2] <= gutter]
        rc = [c for c in row if c[2] > gutter]
        if any(not c[0].isspace() for c in lc):
            left.append(_seg(lc, "left"))
        if any(not c[0].isspace() for c in rc):
            right.append(_seg(rc, "right"))
    order.extend(left + right)
    return top + order + bottom


def _joiner(prev: str, nxt: str) -> str:
    """What goes between two wrapped lines of one paragraph: a space between Latin letters,
    nothing otherwise (CJK lines, and numbers broken over a line, join directly)."""
    a, b = prev[-1:], nxt[:1]
    if a.isascii() and a.isalpha() and b.isascii() and b.isalpha():  # (a space at either end: none)
        return " "
    return ""


def _paragraphs(pages: list[list[_Seg]], widths: list[float]) -> str:
    """Join wrapped body lines into paragraphs; furniture lines stand alone, placed after the
    paragraph they interrupt."""
    out: list[str] = []
    cur: str | None = None
    cur_seg: _Seg | None = None
    pending: list[str] = []
    prev_edges: dict[str, tuple[float, float]] = {}
    for segs, width in zip(pages, widths):
        edges: dict[str, tuple[float, float]] = {}  # per column: where its lines start and end
        for col in ("left", "right", "full"):
            xs = [s for s in segs if s.col == col and not s.furniture]
            if xs:
                edges[col] = (min(s.x0 for s in xs), max(s.x1 for s in xs))
        # A page of short paragraphs never reaches its right margin: assume margins mirror.
        if "full" in edges and "left" not in edges:
            edges["full"] = (edges["full"][0], max(edges["full"][1], width - edges["full"][0]))
        if "left" in edges and "right" in edges:
            edges["right"] = (edges["right"][0], max(edges["right"][1], width - edges["left"][0]))
        pitch_list = [
            a.y - b.y
            for a, b in zip(segs, segs[1:])
            if not a.furniture and not b.furniture and a.col == b.col and 0 < a.y - b.y
        ]
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
                # The previous line stopped short, and not just because the next line's first
                # Latin word (which a word processor never breaks) did not fit: its paragraph ended.
                # The word's width is measured on the page: capitals run to 0.75 em and more.
                room = max(s.lead + size, 1.5 * size)
                if cur_seg.x1 < pright - room:
                    new_para = True
                elif s.x0 > left + 0.9 * size:
                    new_para = True  # indented (or centred): a new paragraph
                elif not first_on_page and s.col == cur_seg.col and pitch is not None and cur_seg.y - s.y > 1.8 * pitch:
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
    return "\n".join(line.strip() for line in out) + ("\n" if out else "")


def _pdf_error(e: BaseException) -> str:
    """What went wrong opening a PDF, from pdfminer's exception chain."""
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and len(chain) < 5:
        chain.append(cur)
        cur = (
            cur.__cause__
            or cur.__context__
            or (cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None)
        )
    names = " ".join(type(x).__name__ for x in chain)
    if "Password" in names or "Encryption" in names:
        return "encrypted PDF (a password is needed to open it): decrypt it first"
    return f"not a readable PDF: damaged or truncated ({type(chain[-1]).__name__}: {chain[-1]})"


def read_pdf(data: bytes, name: str) -> Extracted:
    """Text of a PDF with a text layer, in reading order; see the module docstring."""
    import pdfplumber

    pages: list[tuple[float, list[list[_Char]]]] = []
    widths: list[float] = []
    n_chars = 0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            n_pages = len(pdf.pages)
            for page in pdf.pages:
                chars = _page_chars(page)
                n_chars += sum(1 for c in chars if not c[0].isspace())
                pages.append((float(page.height), _rows(chars)))
                widths.append(float(page.width))
                page.close()  # frees its layout objects: memory stays flat over long reports
    except Exception as e:  # pdfminer raises many kinds (PSEOF, PDFSyntaxError, PDFPasswordIncorrect, …)
        raise ReadError(f"{name}: {_pdf_error(e)}") from e
    if n_pages == 0:
        raise ReadError(f"{name}: PDF without pages")
    if n_chars < 10:
        raise ReadError(f"{name}: no text layer: OCR it first ({n_pages} page(s), {n_chars} characters of text)")
    flags = _page_furniture(pages)
    ordered: list[list[_Seg]] = []
    columns = 0
    prev_gutter: float | None = None
    for width, (_, rows), furn in zip(widths, pages, flags):
        body = [r for r, f in zip(rows, furn) if not f]
        gutter = _gutter(width, body)
        if (
            gutter is None
            and prev_gutter is not None
            and not any(any(c[1] < prev_gutter < c[2] for c in r if not c[0].isspace()) for r in body)
        ):
            gutter = prev_gutter  # a last page with the left column only: still two columns
        prev_gutter = gutter
        columns += gutter is not None
        ordered.append(_reading_order(rows, furn, gutter))
    text = _paragraphs(ordered, widths)
    return Extracted(
        text, "pdf", "pdf", "pdfplumber", _version("pdfplumber"), extra={"pages": n_pages, "two_column_pages": columns}
    )


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
#: Labels pages declare, and the decoder that reads them (GB2312/GBK pages often hold GB18030).
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "x-sjis": "shift_jis",
    "utf8": "utf-8",
    "unicode": "utf-16",
}
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
        raise ReadError(
            f"{name}: HTML page without report text ({total} clause marks of running text outside links: "
            "an index, navigation or error page?)"
        )
    # The smallest element that holds 80% of the running text.
    main = body
    while True:
        best = max((c for c in main if isinstance(c.tag, str)), key=lambda c: _clause_score(c, cache), default=None)
        if best is None or _clause_score(best, cache) < 0.8 * total:
            break
        main = best
    start, end = out.spans.get(main, (0, len(doc)))
    end = min(end, len(doc))
    tag = main.tag if isinstance(main.tag, str) else str(main.tag)  # <body> or a child with a str tag
    extra = {
        "charset_source": source,
        "content_start": start,
        "content_end": end,
        "content_element": tag
        + (f"#{main.get('id')}" if main.get("id") else "")
        + (f".{main.get('class')}" if main.get("class") else ""),
    }
    return Extracted(doc + "\n", "html", enc, "lxml", _version("lxml"), lossy, extra)
