"""``govtarget panel BATCH_DIR --out PANEL_DIR``: batch outputs → long/wide panel tables (see pipeline.panel.tables)."""

from __future__ import annotations

import argparse
import sys

from pipeline.io import OutputError
from pipeline.panel.indicators import IndicatorTableError
from pipeline.panel.metadata import ManifestError, read_manifest
from pipeline.panel.tables import PanelError, build_panel, plot_indicator, write_panel


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "panel", help="turn a batch folder into a panel dataset (CSV, Parquet, Stata .dta; coverage, duplicates)"
    )
    p.add_argument("batch_dir", help="output folder of `govtarget batch`")
    p.add_argument("--out", required=True, help="panel folder")
    p.add_argument(
        "--indicator", default=None, help="keep only this indicator code (e.g. gdp_growth); also the wide table's"
    )
    p.add_argument(
        "--manifest",
        default=None,
        help="CSV with doc_id or file and any of government, level, province, parent, report_year, plan_year (overrides the extracted metadata)",
    )
    p.add_argument("--plot", action="store_true", help="draw the indicator's series across governments and years (PNG)")
    p.add_argument("--indicators-csv", default=None, help="indicator table (default: pipeline/data/indicators.csv)")
    p.add_argument(
        "--hardness-csv", default=None, help="hard/soft convention table (default: pipeline/data/hardness.csv)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    code = args.indicator or "gdp_growth"
    try:
        manifest = read_manifest(args.manifest) if args.manifest else None
        panel = build_panel(args.batch_dir, manifest, args.indicator, args.indicators_csv, args.hardness_csv)
        written = write_panel(panel, args.out, wide_indicator=code)
        if args.plot:
            written.append(plot_indicator(panel, code, f"{args.out}/panel_{code}.png"))
    except (ManifestError, PanelError, IndicatorTableError, OutputError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    s = panel.summary
    share = f"{s['share_with_code']:.1%}" if s["share_with_code"] is not None else "n/a"
    print(
        f"{s['documents']} documents ({s['documents_failed']} failed, {s['documents_duplicate']} duplicate, "
        f"{s['documents_without_government']} without government); {s['targets']} targets, {share} with an indicator "
        f"code; {s['rows_written']} rows → {args.out}",
        file=sys.stderr,
    )
    for d in panel.duplicates:
        print(
            f"duplicate: {d['government']} {d['plan_year']}: {d['dropped_doc']} left out, {d['kept_doc']} used",
            file=sys.stderr,
        )
    return 0
