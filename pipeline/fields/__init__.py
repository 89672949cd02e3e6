"""Stage 3, numbers and fields: the text of a target span → its normalised fields.

Takes a span's text (``parse.parse_fields``) and hands on its value, value_max, unit as written
and canonical, bound, direction and year; ``parse.find_numbers`` hands the rules the number
candidates of a sentence. Chinese numerals go through cn2an.
"""
