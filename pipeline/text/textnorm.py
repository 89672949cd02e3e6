"""Character normalisation for the model and the rules, on a copy with offsets preserved.

Only one-to-one replacements are made (full-width ASCII U+FF01–FF5E → ASCII, U+3000 → space,
and a few look-alike digits), so the normalised string has exactly the length of the original
and offset ``i`` in one is offset ``i`` in the other. NFKC is never used: it changes lengths.
"""

from __future__ import annotations

import re

_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20
_TABLE[0x00A0] = 0x20  # no-break space (from &nbsp;)
# C0 controls and DEL (NUL from a bad scrape) read as a space: "4.6\x00万人" keeps its unit, and
# a leading control character is stripped from a span like any space. Line breaks never reach here.
_TABLE.update({cp: 0x20 for cp in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]})
# Keep Chinese punctuation as is: the clause rules list both forms. Only digits, letters and
# ASCII-range symbols are folded so that "１４５０" parses like "1450".
for _cp in (0xFF0C, 0xFF1B, 0xFF1A, 0xFF01, 0xFF1F, 0xFF08, 0xFF09):  # ， ； ： ！ ？ （ ）
    _TABLE.pop(_cp, None)


#: Any character ``_TABLE`` replaces: most sentences hold none, and a regex scan is several
#: times cheaper than ``str.translate``'s per-character lookups (the result is the same).
_FOLDED = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_TABLE)) + "]")


def normalize(text: str) -> str:
    """Return a same-length copy of ``text`` with full-width forms folded to ASCII."""
    if _FOLDED.search(text) is None:
        return text
    out = text.translate(_TABLE)
    assert len(out) == len(text)
    return out
