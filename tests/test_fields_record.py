"""The typed fields of a target (``pipeline.fields.Fields``) and their JSON form in a record."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline.fields import CanonicalUnit, Fields
from pipeline.fields.parse import parse_fields
from pipeline.records import Target
from pipeline.tagging.tagger import Tagger

# A prediction as the tagger wrote it before Fields existed (key order included).
PREDICTED = (
    '{"start": 10, "end": 25, "text": "社会消费品零售总额突破1450亿元", "category": "商贸", "value": 1450, '
    '"unit": "亿元", "bound": "at_least", "direction": null, "doc_id": "d", "sent_id": 3, "score": 0.9, '
    '"category_score": 0.8, "unit_canonical": {"unit": "yuan", "multiplier": 100000000}, '
    '"value_canonical": 145000000000, "indicator": "社会消费品零售总额", "year": null, "number_text": "1450", '
    '"number_start": 11, "number_end": 15}'
)
GOLD = (
    '{"start": 0, "end": 9, "text": "新增省级特色高中3—5所", "category": "民生", "value": 3, "unit": "所", '
    '"bound": "at_least", "direction": null, "value_max": 5, "note": "range", "year": 2027}'
)


def _line(t: Target) -> str:
    return json.dumps(t.to_json(), ensure_ascii=False)


@pytest.mark.parametrize("line", [PREDICTED, GOLD])
def test_records_round_trip_byte_for_byte(line: str) -> None:
    assert _line(Target.from_json(json.loads(line))) == line


def test_prediction_fields_are_typed_and_provenance_stays_in_extra() -> None:
    t = Target.from_json(json.loads(PREDICTED))
    assert t.fields.parsed and t.fields.unit_canonical == CanonicalUnit("yuan", 10**8)
    assert (t.value, t.bound, t.fields.indicator, t.fields.number_start) == (1450, "at_least", "社会消费品零售总额", 11)
    assert t.extra == {"doc_id": "d", "sent_id": 3, "score": 0.9, "category_score": 0.8}


def test_gold_record_keeps_its_own_keys_in_extra() -> None:
    """Gold records carry the five gold fields; a stray parser key (one of seven) is not read."""
    t = Target.from_json(json.loads(GOLD))
    assert not t.fields.parsed and t.fields.year is None
    assert (t.value, t.value_max) == (3, 5)
    assert t.extra == {"note": "range", "year": 2027}


def test_tagger_output_has_the_record_format_key_order() -> None:
    rec = Tagger.load("rules")("今年社会消费品零售总额突破1450亿元。", "d").sentences[0]
    (t,) = rec.targets
    assert list(t.to_json()) == [
        "start", "end", "text", "category", "value", "unit", "bound", "direction",
        "doc_id", "sent_id", "score", "category_score",
        "unit_canonical", "value_canonical", "indicator", "year", "number_text", "number_start", "number_end",
    ]  # fmt: skip
    assert t.fields == parse_fields(t.text) and "unit_canonical" not in t.extra


def test_fields_json_round_trip_and_bad_unit_canonical() -> None:
    for text in ("城镇新增就业4.6万人", "打造数字化工厂1—2家", "提高0.5个百分点", "", "建设一批重点项目"):
        f = parse_fields(text)
        assert Fields.from_json(json.loads(json.dumps(f.to_json()))) == f
    with pytest.raises(ValueError, match="unit_canonical"):
        Fields.from_json({**parse_fields("1450亿元").to_json(), "unit_canonical": "yuan"})


def test_fields_are_frozen_and_target_takes_one_form() -> None:
    f = parse_fields("能耗强度下降3%")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.value = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        Target(0, 6, "能耗强度下降3%", "生态", 3, fields=f)
    assert Target(0, 6, "能耗强度下降3%", "生态", 3, "%", "exact", "down").fields == Fields(3, "%", "exact", "down")
