"""Gold data: loading and validating it, building it from specs, round trips, selection, audit.

Takes annotation files (inline and standoff gold JSONL, hand-written specs, Label Studio/doccano
exports) and hands on validated ``pipeline.records.GoldDocument``s (``gold``), gold files
(``standoff``, ``seed``), annotation tasks (``annotation_io``, ``select``) and the numbers audit
(``audit``).
"""
