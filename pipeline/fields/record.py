"""The fields of one target as a typed record: what the field parser hands to the tagger and
what a ``Target`` carries (``Target.fields``).

``Fields`` holds the five gold fields (GUIDELINES 2.3: ``value``, ``unit``, ``bound``,
``direction``, ``value_max``) and, for predictions, what the parser reads beyond them
(``unit_canonical``, ``value_canonical``, ``indicator``, ``year``, ``number_text``,
``number_start``, ``number_end``; ``parsed`` says whether they are part of the record). Its JSON
form is the flat one of the gold record format: ``to_json`` / ``from_json`` round-trip every
record we write byte for byte.

Standard library only: the ground floor (``pipeline.records``) imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Number = int | float

#: The gold fields, in the order the record format writes them (``value_max`` only when set).
GOLD_KEYS: tuple[str, ...] = ("value", "unit", "bound", "direction", "value_max")
#: What the parser reads beyond the gold fields, in the order predictions write them.
PARSED_KEYS: tuple[str, ...] = (
    "unit_canonical",
    "value_canonical",
    "indicator",
    "year",
    "number_text",
    "number_start",
    "number_end",
)


@dataclass(frozen=True)
class CanonicalUnit:
    """A written unit as a canonical base unit and a multiplier: ``亿元`` → ``yuan`` × 1e8.

    Percentages stay in percent (``percent`` × 1); ``个百分点`` is ``percentage_point``."""

    unit: str
    multiplier: Number

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "multiplier": self.multiplier}

    @classmethod
    def from_json(cls, d: Any) -> CanonicalUnit:
        """From ``{"unit": str, "multiplier": number}``; anything else is a ValueError."""
        if not (
            isinstance(d, dict)
            and isinstance(d.get("unit"), str)
            and isinstance(d.get("multiplier"), (int, float))
            and not isinstance(d.get("multiplier"), bool)
        ):
            raise ValueError(f"unit_canonical must be null or {{'unit': str, 'multiplier': number}}, got {d!r}")
        return cls(d["unit"], d["multiplier"])


@dataclass(frozen=True)
class Fields:
    """The normalised fields of one target span (see the module docstring).

    The parser's readings default to ``None``; ``parsed`` is True when they belong to the record
    (every prediction), False for gold records, which carry the five gold fields only.
    """

    value: Number | None = None
    unit: str | None = None
    bound: str = "exact"
    direction: str | None = None
    value_max: Number | None = None
    unit_canonical: CanonicalUnit | None = None
    value_canonical: Number | None = None
    #: The indicator's words before the number (``社会消费品零售总额``), hedges and verbs removed.
    indicator: str | None = None
    #: A target year written in the span (``到2027年``).
    year: int | None = None
    #: The chosen number as written, and its offsets in the span text (half-open).
    number_text: str | None = None
    number_start: int | None = None
    number_end: int | None = None
    parsed: bool = False

    def gold_json(self) -> dict[str, Any]:
        """The gold fields in the record format: ``value_max`` only when set."""
        d: dict[str, Any] = {"value": self.value, "unit": self.unit, "bound": self.bound, "direction": self.direction}
        if self.value_max is not None:
            d["value_max"] = self.value_max
        return d

    def parsed_json(self) -> dict[str, Any]:
        """The parser's readings (``PARSED_KEYS``, all of them), or ``{}`` when not ``parsed``."""
        if not self.parsed:
            return {}
        return {
            "unit_canonical": self.unit_canonical.to_json() if self.unit_canonical is not None else None,
            "value_canonical": self.value_canonical,
            "indicator": self.indicator,
            "year": self.year,
            "number_text": self.number_text,
            "number_start": self.number_start,
            "number_end": self.number_end,
        }

    def to_json(self) -> dict[str, Any]:
        """The flat JSON form: ``gold_json()`` then ``parsed_json()``."""
        return {**self.gold_json(), **self.parsed_json()}

    def json_keys(self) -> tuple[str, ...]:
        """The keys of a JSON object that this record stands for (``from_json`` consumed them)."""
        return GOLD_KEYS + PARSED_KEYS if self.parsed else GOLD_KEYS

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fields:
        """From a flat JSON object (a target record). The parser's readings are read when all of
        ``PARSED_KEYS`` are present (as every prediction writes them); otherwise none are, and
        any that are present stay the caller's to keep (``Target.extra``). The gold fields are
        taken as given (``bound`` defaults to ``exact``); a ``unit_canonical`` that is neither
        null nor ``{"unit", "multiplier"}`` is a ValueError."""
        gold: dict[str, Any] = {
            "value": d.get("value"),
            "unit": d.get("unit"),
            "bound": d.get("bound", "exact"),
            "direction": d.get("direction"),
            "value_max": d.get("value_max"),
        }
        if not all(k in d for k in PARSED_KEYS):
            return cls(**gold)
        uc = d["unit_canonical"]
        return cls(
            **gold,
            unit_canonical=None if uc is None else CanonicalUnit.from_json(uc),
            value_canonical=d["value_canonical"],
            indicator=d["indicator"],
            year=d["year"],
            number_text=d["number_text"],
            number_start=d["number_start"],
            number_end=d["number_end"],
            parsed=True,
        )
