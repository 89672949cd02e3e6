"""Gold data: loading and validating it, building it from specs, round trips, selection, audit.

Takes annotation files (inline and standoff gold JSONL, hand-written specs, Label Studio/doccano
exports) and hands on validated ``pipeline.records.GoldDocument``s (``gold``), gold files built
from one spec format by one builder (``standoff``; ``seed`` holds the seed's paths), annotation
tasks (``annotation_io``, ``select``) and the numbers audit (``audit``).
"""
