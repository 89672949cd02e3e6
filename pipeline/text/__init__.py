"""Stage 1–2, reading and segmentation: bytes → text → sentences.

Takes a file or bytes (UTF-8/BOM, UTF-16, GB18030/GBK, Big5; ``reader``) and hands on the
decoded text and a ``Segmentation`` (``segment``): sentences with half-open code-point offsets
into that text, furniture marked (never deleted), each sentence's part (review/plan/other) and
section path. ``textnorm`` is the one character normalisation (full-width digits and the like)
that every later stage uses for matching, never for offsets.
"""
