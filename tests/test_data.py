"""The package's data files (``pipeline/data``): loaded in one place, labels only from the schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline import data
from pipeline.fields import parse
from pipeline.rules import baseline
from pipeline.schema import BOUNDS, CATEGORIES, DIRECTIONS


def test_the_modules_use_the_data_files() -> None:
    assert baseline.LEXICON == data.lexicon() and list(baseline.LEXICON) == list(CATEGORIES)
    assert parse.BASE_UNITS == data.units().base_units and parse.BASE_UNITS["亿元"[1:]] == "yuan"
    assert parse.BASE_UNITS["家"] == "count"  # a measure word
    words = data.field_words()
    assert ("不超过", "at_most") in words.prefix_bounds and ("以上", "at_least") in words.suffix_bounds
    assert {b for _, b in words.prefix_bounds + words.suffix_bounds} <= set(BOUNDS)
    assert {d for _, d in words.directions} <= set(DIRECTIONS)


def test_word_lists_have_one_source() -> None:
    """The bound/direction words live in field_words.json only: the schema keeps the labels, and
    the parser's behaviour follows every word of the file."""
    from pipeline import schema

    assert not [n for n in dir(schema) if n.endswith("_WORDS")]
    words = data.field_words()
    assert (parse._PREFIX_BOUNDS, parse._SUFFIX_BOUNDS, parse._DIRECTIONS) == (
        words.prefix_bounds,
        words.suffix_bounds,
        words.directions,
    )
    for w, bound in words.prefix_bounds:
        assert parse.parse_fields(f"{w}500个").bound == bound, w
    for w, bound in words.suffix_bounds:
        assert parse.parse_fields(f"500个{w}").bound == bound, w
    for w, direction in words.directions:
        assert parse.parse_fields(f"{w}5%").direction == direction, w


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for f in data.DATA_DIR.glob("*.json"):
        shutil.copy2(f, tmp_path / f.name)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    for fn in (data.lexicon, data.units, data.field_words):
        fn.cache_clear()
    yield tmp_path
    for fn in (data.lexicon, data.units, data.field_words):
        fn.cache_clear()


def _edit(path: Path, change: object) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)  # type: ignore[operator]
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def test_a_label_that_is_not_the_schemas_is_refused(data_dir: Path) -> None:
    _edit(data_dir / "field_words.json", lambda o: o["suffix_bounds"].append(["以上", "more_than"]))
    with pytest.raises(data.DataFileError, match=r"field_words\.json.*more_than"):
        data.field_words()
    _edit(data_dir / "lexicon.json", lambda o: o.update({"体育": ["体育"]}))
    with pytest.raises(data.DataFileError, match=r"lexicon\.json"):
        data.lexicon()
