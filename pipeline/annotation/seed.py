"""The seed gold set and its numbers audit, built from the seed's annotation spec.

The seed report's spec (``data/gold/specs/yuzhong-2024.spec.json``, the one spec format of
``pipeline.annotation.standoff``, ``"inline": true``: the raw text is committed in ``data/raw``)
holds the annotator's decisions: every kept sentence with its category, each target as its exact
text plus fields, each excluded number with its reason. The one builder
(``pipeline.annotation.standoff.build``) computes every offset and writes:

* data/gold/yuzhong-2024.jsonl  (GUIDELINES section 4, inline: one record per kept sentence, with text)
* data/audit/yuzhong-2024.tsv   (every number token with its decision, ``audit_decisions``)

Fails loudly (SpecError) when a target text or an exclusion phrase is not found in its sentence,
when a sentence's prefix does not match (the segmentation changed), or when a number token is
left unaccounted. ``--check`` writes nothing and exits 1 when the files on disk differ.

    govtarget seed [--check]
"""

from __future__ import annotations

from pathlib import Path

from pipeline.annotation.audit import write_decisions
from pipeline.annotation.standoff import Built, SpecError, audit_decisions, build, load_spec, to_jsonl

#: The repository root (the default gold and spec paths are inside a checkout).
ROOT = Path(__file__).resolve().parents[2]

RAW_DIR = ROOT / "data" / "raw"
RAW = RAW_DIR / "yuzhong-2024.txt"
GOLD = ROOT / "data" / "gold" / "yuzhong-2024.jsonl"
AUDIT = ROOT / "data" / "audit" / "yuzhong-2024.tsv"
SPEC = ROOT / "data" / "gold" / "specs" / "yuzhong-2024.spec.json"

__all__ = ["AUDIT", "GOLD", "RAW", "ROOT", "SPEC", "SpecError", "build_seed", "render"]


def build_seed(spec_path: Path = SPEC, raw_dir: Path = RAW_DIR) -> Built:
    """The seed's built gold (inline records, exclusions) from its spec; SpecError on any misfit."""
    spec = load_spec(spec_path)
    if spec.get("inline") is not True:
        raise SpecError(f'{spec_path}: the seed\'s spec must say "inline": true (its gold carries text)')
    return build(spec, raw_dir, str(spec_path))


def render(built: Built) -> tuple[str, str]:
    """The gold file's and the audit file's text for ``built``."""
    return to_jsonl(built), write_decisions(audit_decisions(built))
