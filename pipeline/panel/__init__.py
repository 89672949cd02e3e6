"""Stage 7: batch outputs → a panel dataset.

Takes the gold-format JSONL that ``govtarget batch`` writes (one file per report) and hands on
tables in the shape economists analyse: ``metadata`` reads who wrote each report and for which
year (with the source of every field), ``indicators`` maps a target's indicator text to a short
ASCII code from ``pipeline/data/indicators.csv``, and ``tables`` builds the long and wide tables
(CSV, Parquet, Stata 118), coverage, duplicates and the plot.
"""
