"""Stage 1: read a report file into text, detecting its format and encoding.

The format is sniffed from the bytes (``pipeline.text.formats``): .docx, PDF and HTML files are read
by their own readers into the text that then *is* the document; plain text is decoded as below.

Offsets everywhere refer to the text returned here, exactly as decoded: line endings (CRLF,
LF, CR) are kept, nothing is normalised. Order (see ../shared/PITFALLS.md): BOM (UTF-8,
UTF-16/32), strict UTF-8, BOM-less UTF-16 by NUL pattern, then GB18030 and Big5 judged by how
plausible the decoded text is, then charset-normalizer for the rest. Binary files are rejected.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ReadError

# Characters that make up most of any Chinese government report (simplified forms).
_COMMON_SIMPLIFIED = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质各业"
    "报告工作经济社会发展建设推进改革开放城市服务企业项目全面加强深化实施完成增长亿元万人保障提升推动落实创新产业环境群众生态农村教育医疗安全政府市场投资消费就业"
)
_BIG5_ONLY_HINT = set("們國這為來個發學會時說對經過後還進與")


#: Largest report file read (bytes); a larger one is refused (``--max-bytes`` changes it). Real
#: work reports are well under 2 MB; the limit stops ``/dev/zero``-like inputs eating memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(path: str | os.PathLike[str], max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (``None``: no limit).

    FIFOs, devices and sockets are refused by name before anything is opened or read (opening a
    FIFO blocks; ``/dev/zero`` never ends); the size is checked before reading and again while
    reading (a file that grows). Raises ReadError naming the file.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as e:
        raise ReadError(f"{p}: no such file") from e
    except PermissionError as e:
        raise ReadError(f"{p}: permission denied") from e
    except OSError as e:
        raise ReadError(f"{p}: cannot read ({e.strerror})") from e
    if stat.S_ISDIR(st.st_mode):
        raise ReadError(f"{p}: is a directory, not a report file")
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise ReadError(f"{p}: is {kind}, not a regular file; refused without reading")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError(f"{p}: not a regular file; refused without reading")
    too_big = f"{p}: larger than the limit of {max_bytes:,} bytes per document (--max-bytes)" if max_bytes else ""
    if max_bytes is not None and st.st_size > max_bytes:
        raise ReadError(f"{p}: {st.st_size:,} bytes, " + too_big.split(": ", 1)[1])
    try:
        # O_NONBLOCK: should the path have become a FIFO since stat, opening does not hang.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ReadError(f"{p}: not a regular file; refused without reading")
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except PermissionError as e:
        raise ReadError(f"{p}: permission denied") from e
    except IsADirectoryError as e:
        raise ReadError(f"{p}: is a directory, not a report file") from e
    except OSError as e:
        raise ReadError(f"{p}: cannot read ({e.strerror})") from e
    if max_bytes is not None and len(data) > max_bytes:
        raise ReadError(too_big)
    return data


@dataclass(frozen=True)
class Report:
    doc_id: str
    path: str
    text: str
    encoding: str
    sha256: str
    #: True when undecodable bytes were replaced (a truncated file): offsets are still valid
    #: for ``text`` but some characters are U+FFFD.
    lossy: bool = False
    #: ``"txt"``, ``"docx"``, ``"pdf"`` or ``"html"``: how the file was read (by content).
    format: str = "txt"
    #: The library that extracted the text ("" for plain text) and its version.
    library: str = ""
    library_version: str = ""
    #: Format details (PDF pages, HTML main-content offsets, …): ``pipeline.formats.Extracted``.
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def provenance(self) -> dict[str, Any]:
        """How the text was obtained, for output records: format, encoding, library, version."""
        out: dict[str, Any] = {"format": self.format, "encoding": self.encoding + (" (lossy)" if self.lossy else "")}
        if self.library:
            out.update(library=self.library, library_version=self.library_version)
        return out


def _plausibility(text: str) -> float:
    """Share of CJK characters that are common simplified characters (0..1)."""
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not cjk:
        return 0.0
    return sum(c in _COMMON_SIMPLIFIED for c in cjk) / len(cjk)


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x7fELF")):
        return True
    return False


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\r\n\t\f\v") or c == "\ufffd")
    return bad / len(text)


def decode_bytes(data: bytes, name: str = "<bytes>") -> tuple[str, str, bool]:
    """Decode report bytes; return ``(text, encoding, lossy)`` or raise ReadError naming ``name``."""
    if not data:
        return "", "utf-8", False
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        try:
            return data.decode("utf-32"), "utf-32", False
        except UnicodeDecodeError as e:
            raise ReadError(f"{name}: UTF-32 BOM but undecodable ({e})") from e
    if data.startswith(codecs.BOM_UTF8):
        text, lossy = _utf8(data[3:])
        return text, "utf-8-sig", lossy
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", False
        except UnicodeDecodeError as e:
            # A file cut after an odd number of bytes (or inside a surrogate pair): keep what
            # decodes, flag it, as for truncated UTF-8.
            text = data.decode("utf-16", errors="replace")
            if text.count("\ufffd") <= max(1, len(text) // 1000):
                return text, "utf-16", True
            raise ReadError(f"{name}: UTF-16 BOM but undecodable ({e})") from e
    if _looks_binary(data):
        raise ReadError(f"{name}: binary file (PDF, image or archive), not a text report")
    # BOM-less UTF-16: many NUL bytes in alternating positions.
    if len(data) >= 4 and data.count(b"\x00") > len(data) // 4:
        # ASCII in UTF-16 puts its NUL in the high byte: at odd offsets for LE, even ones for BE.
        odd_nuls = data[1::2].count(0)
        order = ("utf-16-le", "utf-16-be") if odd_nuls >= data[0::2].count(0) else ("utf-16-be", "utf-16-le")
        for enc in order:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _control_share(text) < 0.01:
                return text, enc, False
        raise ReadError(f"{name}: binary file (many NUL bytes), not a text report")
    try:
        text = data.decode("utf-8")
        if _control_share(text) > 0.05:
            raise ReadError(f"{name}: binary file ({_control_share(text):.0%} control characters)")
        return text, "utf-8", False
    except UnicodeDecodeError as err:
        utf8_err = err
    candidates: list[tuple[float, str, str]] = []
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if enc == "big5":
            # Big5 text is traditional: judge by traditional hints as well.
            cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
            if cjk:
                score = max(score, sum(c in _BIG5_ONLY_HINT for c in cjk) / len(cjk) * 4)
        candidates.append((score, enc, text))
    candidates.sort(key=lambda c: c[0], reverse=True)
    if candidates and candidates[0][0] > 0.05 and _control_share(candidates[0][2]) < 0.01:
        return candidates[0][2], candidates[0][1], False
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # pragma: no cover - detector failure is treated as "no guess"
        best = None
    if best is not None and best.encoding:
        text = str(best)
        if _control_share(text) < 0.01:
            return text, codecs.lookup(best.encoding).name, False  # "utf_16_le" -> "utf-16-le"
    # Mostly UTF-8 with a cut multi-byte character (truncated file): decode with replacement.
    if utf8_err.start >= len(data) - 4 or data[: utf8_err.start].count(b"\n") > 0:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(1, len(text) // 1000):
            return text, "utf-8", True
    if candidates:
        return candidates[0][2], candidates[0][1], False
    raise ReadError(f"{name}: cannot decode as UTF-8, UTF-16, GB18030 or Big5 ({utf8_err})")


def _utf8(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def doc_id_for(path: str | os.PathLike[str]) -> str:
    return Path(path).stem


def read_report(
    path: str | os.PathLike[str], doc_id: str | None = None, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> Report:
    """Read one report file (plain text, .docx, PDF or HTML, chosen by content) into the text
    every offset refers to. Raises ReadError (naming the file) on bad input, a file that is not a
    regular file, or one over ``max_bytes`` (see ``read_limited``)."""
    p = Path(path)
    data = read_limited(p, max_bytes)
    from pipeline.text.formats import extract

    ex = extract(data, str(p), p.suffix)
    return Report(
        doc_id=doc_id or doc_id_for(p),
        path=str(p),
        text=ex.text,
        encoding=ex.encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        lossy=ex.lossy,
        format=ex.format,
        library=ex.library,
        library_version=ex.library_version,
        extra=ex.extra,
    )
