"""The panel against a hand-collected series (issue 16): GDP-growth targets of the national
reports 2003–2025 (../shared/corpus2) and of the 河北省 reports (../shared/corpus).

The fixture ``tests/data/gdp_targets_handcollected.csv`` (columns
``file,corpus,government,plan_year,value,value_max,bound,unit``; ``value`` empty where the report
states no GDP target) is compiled by an annotator blind to this code. Each row runs the rule
tagger and the panel over its file and must match exactly: the headline ``gdp_growth`` target's
value, upper end, bound and unit, the government and the plan year; an empty value must meet no
headline GDP target. Skips where the fixture or the corpora are absent. Government names are
compared after one normalisation: 国务院 / 全国 / 中国 / 中央人民政府 all mean the national level.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import SHARED

from pipeline.panel.tables import PanelDocument, panel_from_documents

#: GOVTARGET_GDP_FIXTURE points the test at another copy of the fixture.
FIXTURE = Path(
    os.environ.get("GOVTARGET_GDP_FIXTURE", Path(__file__).resolve().parent / "data" / "gdp_targets_handcollected.csv")
)
_NATIONAL = {"国务院", "全国", "中国", "中央人民政府", "中华人民共和国国务院"}


def _rows() -> list[dict[str, str]]:
    if not FIXTURE.is_file():
        return []
    with open(FIXTURE, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _path(row: dict[str, str]) -> Path:
    return SHARED / row["corpus"].strip() / row["file"].strip()


@lru_cache(maxsize=1)
def _tagger():  # type: ignore[no-untyped-def]
    from pipeline.tagging.tagger import Tagger

    return Tagger.load("rules")


def _gov(name: str) -> str:
    return "national" if name.strip() in _NATIONAL else name.strip()


def _num(s: str) -> float | None:
    return float(s) if s.strip() else None


def _panel_row(path: Path) -> tuple[dict[str, object] | None, str, int | None]:
    """The headline gdp_growth row of one report, its government and plan year."""
    from pipeline.tagging.batch import InputFile, read_input

    text = read_input(InputFile(path, str(path), str(path), path.stem)).text
    doc = _tagger()(text, doc_id=path.stem)
    panel = panel_from_documents(
        [PanelDocument(path.stem, str(path), doc.sentences, text=text)], indicator="gdp_growth"
    )
    meta = panel.documents[0]
    heads = [r for r in panel.long if r["headline"]]
    return (heads[0] if heads else None), meta.government, meta.plan_year


ROWS = _rows()


@pytest.mark.corpus
@pytest.mark.skipif(not ROWS, reason=f"{FIXTURE} is absent (compiled by a separate annotator)")
@pytest.mark.parametrize("row", ROWS, ids=[f"{r['corpus']}/{r['file']}" for r in ROWS] or None)
def test_row_reproduced(row: dict[str, str]) -> None:
    path = _path(row)
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    got, gov, plan_year = _panel_row(path)
    assert _gov(gov) == _gov(row["government"])
    assert plan_year == int(row["plan_year"])
    if not row["value"].strip():
        assert got is None, f"the report states no GDP target, the panel has {got and got['text']}"
        return
    assert got is not None, "no headline gdp_growth target found"
    assert (float(got["value"]), _num(str(got["value_max"] or "")), got["bound"], got["unit"]) == (
        float(row["value"]),
        _num(row["value_max"]),
        row["bound"].strip(),
        row["unit"].strip(),
    ), got["text"]


@pytest.mark.corpus
@pytest.mark.skipif(not ROWS, reason=f"{FIXTURE} is absent (compiled by a separate annotator)")
def test_agreement_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Reports how many rows agree (the per-row tests above are the requirement)."""
    n = agree = 0
    for row in ROWS:
        path = _path(row)
        if not path.is_file():
            continue
        n += 1
        got, gov, plan_year = _panel_row(path)
        ok = _gov(gov) == _gov(row["government"]) and plan_year == int(row["plan_year"])
        if not row["value"].strip():
            ok = ok and got is None
        else:
            ok = (
                ok
                and got is not None
                and (float(got["value"]), _num(str(got["value_max"] or "")), got["bound"], got["unit"])
                == (float(row["value"]), _num(row["value_max"]), row["bound"].strip(), row["unit"].strip())
            )
        agree += ok
    if n == 0:
        pytest.skip("none of the fixture's files is present")
    with capsys.disabled():
        print(f"\nhand-collected GDP targets: {agree}/{n} rows reproduced exactly")
