"""Stage 3, numbers and fields: the text of a target span → its normalised fields.

Takes a span's text (``parse.parse_fields``) and hands on a ``Fields`` record (``record``: value,
value_max, unit as written and canonical, bound, direction, year, the indicator and where the
number is); ``parse.find_numbers`` hands the rules the number candidates of a sentence; ``clauses`` says where
a target span may start and end (GUIDELINES 2.2), for the gold builder and the model's decoding.
Chinese numerals go through cn2an. Importing this folder is light: ``Fields`` needs the standard library only.
"""

from pipeline.fields.record import CanonicalUnit, Fields

__all__ = ["CanonicalUnit", "Fields"]
