"""File output helpers: atomic writes (temp file in the same folder, fsync, os.replace)."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from pipeline.errors import OutputError

#: Longest file name part (in bytes) a temporary name borrows from its target; 255-byte name limits
#: of common filesystems then always leave room for the dot, the random part and ``.tmp``.
_TMP_NAME_BYTES = 100


def truncate_bytes(name: str, limit: int) -> str:
    """The longest prefix of ``name`` whose filesystem encoding has at most ``limit`` bytes."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:  # not UTF-8 (surrogate-escaped bytes): any byte cut is a valid name
        return os.fsdecode(raw[:limit])
    return raw[:limit].decode("utf-8", "ignore")  # drops only a character split by the cut


def printable(s: str) -> str:
    """``s`` with undecodable file-name bytes (lone surrogates from ``surrogateescape``) decoded
    as GB18030 where they form valid GB18030 (a Windows archive's names), else as ``\\xNN``: a
    string that can always be written as UTF-8 (summaries, CSV, messages)."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        pass
    raw = s.encode("utf-8", "surrogateescape")
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


def new_file_mode(path: Path) -> int:
    """Permissions for a file about to be (re)written: those of the file it replaces, else what
    ``open()`` would give (0666 less the umask), never mkstemp's private 0600."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{truncate_bytes(p.name, _TMP_NAME_BYTES)}.", suffix=".tmp", dir=p.parent)
    except OSError as e:
        raise OutputError(f"{p}: cannot write ({e.strerror or e})") from e
    try:
        os.fchmod(fd, new_file_mode(p))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"{p}: cannot write ({e.strerror or e})") from e


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as e:  # lone surrogates (surrogateescape): say which file, touch nothing
        raise OutputError(f"{path}: text cannot be encoded as {encoding} ({e.reason} at character {e.start})") from e
    atomic_write_bytes(path, data)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks (model weights can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
