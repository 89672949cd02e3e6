"""Build .docx, PDF and HTML versions of a report inside the tests (no files shipped, no network).

PDFs use reportlab's built-in CID font STSong-Light (Adobe-GB1): no font file is needed. Lines
are wrapped by glyph widths the way a word processor does (first line indented by two
characters), each page gets a running header and a ``- N -`` page number, and two-column pages
are drawn row by row (left line, right line, …) so that a reader following the content stream
instead of the layout would interleave the columns.
"""

from __future__ import annotations

import html
from pathlib import Path

FONT = "STSong-Light"
SIZE = 12.0
LEADING = 18.0


def _font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def wrap(paragraph: str, width: float, indent: float = 2 * SIZE) -> list[tuple[float, str]]:
    """``(x offset, line)`` of a paragraph wrapped to ``width`` points, first line indented.
    Like a word processor, a Latin word is not broken: it moves to the next line whole, and the
    space before it stays at the end of the line."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def latin(c: str) -> bool:
        return c.isascii() and c.isalpha()

    lines: list[tuple[float, str]] = []
    cur, x0 = "", indent
    for ch in paragraph:
        if cur and ch != " " and stringWidth(cur + ch, FONT, SIZE) > width - x0:
            carry = ""
            if latin(ch):
                k = len(cur)
                while k > 0 and latin(cur[k - 1]):
                    k -= 1
                if 0 < k:
                    cur, carry = cur[:k], cur[k:]
            lines.append((x0, cur))
            cur, x0 = carry, 0.0
        cur += ch
    if cur:
        lines.append((x0, cur))
    return lines


def make_pdf(
    path: Path,
    paragraphs: list[str],
    *,
    columns: int = 1,
    header: str | None = "某某市人民政府工作报告",
    page_numbers: bool = True,
    title: str | None = None,
    encrypt: str | None = None,
) -> Path:
    """Write ``paragraphs`` as a PDF (A4, 72 pt margins) and return ``path``."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _font()
    w, h = A4
    margin, gutter = 72.0, 24.0
    col_w = (w - 2 * margin - (columns - 1) * gutter) / columns
    lines: list[tuple[float, str]] = []
    for p in paragraphs:
        lines.extend(wrap(p, col_w))
    kwargs = {}
    if encrypt is not None:
        from reportlab.lib.pdfencrypt import StandardEncryption

        kwargs["encrypt"] = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner")
    c = canvas.Canvas(str(path), pagesize=A4, **kwargs)
    top = h - margin
    rows_per_col = int((top - margin) // LEADING)
    page = 0
    i = 0
    while i < len(lines) or (page == 0 and title):
        page += 1
        c.setFont(FONT, SIZE)
        if header:
            c.drawCentredString(w / 2, h - 40, header)
        if page_numbers:
            c.drawCentredString(w / 2, 30, f"- {page} -")
        y0 = top
        if title and page == 1:
            c.setFont(FONT, 18)
            c.drawCentredString(w / 2, y0 - 18, title)
            c.setFont(FONT, SIZE)
            y0 -= 2.5 * LEADING
        rows = int((y0 - margin) // LEADING)
        del rows_per_col
        rows_per_col = rows
        cols = [lines[i + k * rows : i + (k + 1) * rows] for k in range(columns)]
        for r in range(rows):
            for k, col in enumerate(cols):
                if r < len(col):
                    dx, text = col[r]
                    c.drawString(margin + k * (col_w + gutter) + dx, y0 - (r + 1) * LEADING, text)
        i += rows * columns
        c.showPage()
    c.save()
    return path


def make_blank_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF with pages but no text (what a scanner without OCR gives: here, only drawings)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        c.rect(100, 100, 300, 500, fill=1)
        c.showPage()
    c.save()
    return path


def make_docx(path: Path, lines: list[str]) -> Path:
    import docx

    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    d.save(str(path))
    return path


NAV = ["首页", "政务公开", "政府信息公开", "政策文件", "互动交流", "办事服务", "数据发布"]
RELATED = ["市政府召开常务会议研究部署近期工作", "我市一季度经济运行情况新闻发布会举行", "市长主持召开专题会议"]


def make_html(
    path: Path, paragraphs: list[str], *, charset: str = "utf-8", title: str = "政府工作报告", meta: bool = True
) -> Path:
    """A saved government web page: menu, breadcrumb, font-size switch, share bar, the report
    in ``<div class="article">``, a QR-code line, related links and a footer."""
    esc = html.escape
    menu = "".join(f'<li><a href="/{i}/">{esc(n)}</a></li>' for i, n in enumerate(NAV))
    body = "\n".join(f"<p>　　{esc(p)}</p>" for p in paragraphs)
    related = "".join(
        f'<li><a href="/n/{i}.html">{esc(t)}</a><span>2024-03-0{i + 1}</span></li>' for i, t in enumerate(RELATED)
    )
    head_meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if meta else ""
    page = f"""<!DOCTYPE html>
<html><head>{head_meta}<title>{esc(title)}_某某市人民政府</title>
<style>body {{ font-size: 14px }}</style><script>var x = "不是正文。";</script></head>
<body>
<div class="top"><ul class="nav">{menu}</ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <span>政策文件</span></div>
<div class="main">
<h1>{esc(title)}</h1>
<div class="info">发布时间：2024-01-26 09:30 来源：市政府办公室 【字体：<a>大</a> <a>中</a> <a>小</a>】 <a>打印</a></div>
<div class="share">分享：<a>微信</a> <a>微博</a> <a>QQ空间</a></div>
<div class="article" id="zoom">
{body}
</div>
<div class="qr">扫一扫在手机打开当前页</div>
<div class="related"><h3>相关报道</h3><ul>{related}</ul></div>
</div>
<div class="footer"><p>主办单位：某某市人民政府办公室　承办单位：某某市大数据中心</p>
<p>网站标识码：5001030001　渝ICP备05003300号　渝公网安备50010302000001号</p>
<p><a>网站地图</a> | <a>联系我们</a> | <a>使用帮助</a></p></div>
</body></html>
"""
    path.write_bytes(page.encode(charset))
    return path
