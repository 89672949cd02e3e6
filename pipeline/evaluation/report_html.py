"""Views of an evaluation run: Markdown report, side-by-side HTML, history table and plots.

Everything here reads the metrics dict written by ``pipeline.evaluation.evalrun`` (``metrics.json``: the
flat metrics, ``meta`` and ``baseline``) and computes nothing new except layout; the HTML also
re-aligns gold and predicted spans with ``pipeline.evaluation.scoring`` to colour them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.evaluation.scoring import FIELDS, HEADLINE, align_document, score_unit
from pipeline.records import GoldDocument, SentenceRecord, Target

#: Rows of the headline table: (metric key, label).
HEADLINE_ROWS: tuple[tuple[str, str], ...] = (
    ("targets_strict_f", "**Target F1, strict (headline)**"),
    ("targets_strict_p", "Target precision, strict"),
    ("targets_strict_r", "Target recall, strict"),
    ("targets_partial_f", "Target F1, partial (overlap)"),
    ("targets_typed_f", "Target F1, typed (span + category)"),
    ("fields_all_acc", "All fields right (strict matches)"),
    ("sentcat_accuracy", "Sentence category accuracy"),
    ("sentcat_macro_f1", "Sentence category macro-F1"),
)
MAX_ROWS = 30


def _f(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) and not isinstance(x, bool) else "–"


def _ci(x: Any) -> str:
    return f"[{x[0]:.3f}, {x[1]:.3f}]" if isinstance(x, list) and len(x) == 2 else ""


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(doc: dict[str, Any]) -> str:
    """The report a person reads first: split, headline with CIs beside the baseline, tables, errors."""
    meta = doc.get("meta", {})
    base = doc.get("baseline") or {}
    split = meta.get("split", "?")
    lines = [f"# Evaluation {meta.get('run_id', '')}", ""]
    if "NOT" in split:
        lines += [
            f"> **Split: {split}.** These figures are on data the model was trained on. Do not quote them as accuracy.",
            "",
        ]
    lines += [
        f"- System: `{meta.get('system')}`"
        + (f" (weights sha256 `{str(meta.get('model_sha256'))[:16]}`)" if meta.get("model_sha256") else ""),
        f"- Split: **{split}**",
        f"- Gold: `{meta.get('gold')}`: {len(meta.get('gold_documents', []))} document(s) "
        f"({', '.join(meta.get('gold_documents', []))}), {doc.get('n_sentences')} sentences, "
        f"{doc.get('targets_n_gold')} targets; sha256 `{str(meta.get('gold_sha256'))[:16]}`",
        f"- Code: git `{str(meta.get('git_commit'))[:12]}`"
        + (" (uncommitted changes)" if meta.get("git_dirty") else ""),
        f"- Time: {meta.get('started')} → {meta.get('finished')} ({meta.get('seconds')} s)",
    ]
    for s in meta.get("gold_skipped") or []:
        lines.append(f"- Gold document skipped: {s}")
    for n in meta.get("notes") or []:
        lines.append(f"- Note: {n}")
    ms = meta.get("metadata_scores")
    if ms:
        accs = ", ".join(f"{k[:-4]} {_f(v)}" for k, v in ms.items() if k.endswith("_acc"))
        ic = ms.get("indicator_codes") or {}
        lines.append(
            f"- Document metadata (`{meta.get('gold')}/metadata.csv`, {ms.get('n')} documents): accuracy {accs}; "
            f"gold targets with an indicator code: {ic.get('with_code')}/{ic.get('n')} ({_f(ic.get('share'))})"
        )
        for e in ms.get("errors", [])[:10]:
            lines.append(
                f"  - metadata error: {e['doc_id']} {e['field']}: gold {e['gold']!r}, extracted {e['extracted']!r}"
            )
    bs = doc.get("bootstrap") or {}
    lines += ["", "## Headline", ""]
    lines.append(
        f"Headline metric: `{HEADLINE}` = **{_f(doc.get(HEADLINE))}** {_ci(doc.get(HEADLINE + '_ci'))}; "
        f"rule baseline {_f(base.get(HEADLINE))} {_ci(base.get(HEADLINE + '_ci'))}. "
        f"Intervals: 95% percentile bootstrap over sentences ({bs.get('n_resamples', '?')} resamples, "
        f"seed {bs.get('seed', '?')}); split: {split}. Sentences of one paragraph or document are not "
        "independent, so these intervals are, if anything, too narrow."
    )
    lines.append("")
    rows = [
        [label, _f(doc.get(k)), _ci(doc.get(k + "_ci")), _f(base.get(k)), _ci(base.get(k + "_ci"))]
        for k, label in HEADLINE_ROWS
    ]
    lines += _table(["metric", meta.get("system", "system"), "95% CI", "rules", "rules 95% CI"], rows)
    for key, title in (
        ("vs_baseline", "all gold documents"),
        ("vs_baseline_unseen", "documents the rule authors never read"),
    ):
        vs = meta.get(key)
        if not vs:
            continue
        lines += [
            f"## Against the rule baseline (paired): {title}",
            "",
            f"System minus rules on the same {vs.get('n_sentences')} sentences"
            + (f" ({', '.join(vs['documents'])})" if vs.get("documents") else "")
            + f"; 95% paired bootstrap interval of the difference ({vs.get('n_resamples')} resamples "
            "over sentences); p = share of resamples where the system is not ahead.",
            "",
        ]
        prow = [
            [k, _f(v["a"]), _f(v["b"]), f"{v['diff']:+.3f}", _ci(v["ci"]), f"{v['p_not_better']:.3f}"]
            for k, v in vs.items()
            if isinstance(v, dict) and "diff" in v
        ]
        lines += _table(["metric", "system", "rules", "difference", "95% CI", "p"], prow)
    lines += ["## Target counts", ""]
    count_keys = [
        "targets_n_gold",
        "targets_n_pred",
        "targets_correct",
        "targets_boundary",
        "targets_missed",
        "targets_spurious",
        "targets_pred_outside_gold",
    ]
    lines += _table(
        ["count", meta.get("system", "system"), "rules"],
        [[k.removeprefix("targets_"), doc.get(k), base.get(k, "–")] for k in count_keys],
    )
    lines.append(
        "correct = same start and end; boundary = overlapping but not identical (one-to-one); "
        "outside = predicted in text that no gold sentence covers (not scored)."
    )
    lines.append("")

    pc = doc.get("targets_per_category") or {}
    if pc:
        lines += ["## Targets per category (typed: span and category)", ""]
        lines += _table(
            ["category", "gold", "pred", "P", "R", "F1", "span R (any category)"],
            [
                [c, v["support"], v["n_pred"], _f(v["p"]), _f(v["r"]), _f(v["f"]), _f(v["span_r"])]
                for c, v in pc.items()
            ],
        )
    lines += ["## Fields on strictly matched targets", "", f"{doc.get('fields_n', 0)} strict matches.", ""]
    lines += _table(
        ["field", "accuracy", "rules"],
        [[f, _f(doc.get(f"fields_{f}_acc")), _f(base.get(f"fields_{f}_acc"))] for f in (*FIELDS, "all")],
    )

    sc = doc.get("sentcat_per_category") or {}
    lines += [
        "## Sentence categories",
        "",
        f"{doc.get('sentcat_n')} gold sentences; accuracy {_f(doc.get('sentcat_accuracy'))}, macro-F1 "
        f"{_f(doc.get('sentcat_macro_f1'))}; {doc.get('sentcat_unmatched', 0)} gold sentence(s) with no "
        "overlapping predicted sentence (label `(none)`).",
        "",
    ]
    if sc:
        lines += _table(
            ["category", "support", "P", "R", "F1"],
            [[c, v["support"], _f(v["p"]), _f(v["r"]), _f(v["f"])] for c, v in sc.items()],
        )
    conf = doc.get("sentcat_confusion") or {}
    if conf.get("matrix"):
        labels = conf["labels"]
        lines += ["Confusion matrix (rows gold, columns predicted):", ""]
        lines += _table(["gold \\ pred", *labels], [[lab, *row] for lab, row in zip(labels, conf["matrix"])])

    per_doc = doc.get("per_document") or {}
    if per_doc:
        lines += ["## Per document", ""]
        lines += _table(
            ["document", "sentences", "gold", "pred", "strict P", "strict R", "strict F1", "typed F1", "sent. acc"],
            [
                [
                    d,
                    v.get("n_sentences"),
                    v.get("targets_n_gold"),
                    v.get("targets_n_pred"),
                    _f(v.get("targets_strict_p")),
                    _f(v.get("targets_strict_r")),
                    _f(v.get("targets_strict_f")),
                    _f(v.get("targets_typed_f")),
                    _f(v.get("sentcat_accuracy")),
                ]
                for d, v in per_doc.items()
            ],
        )
    cv = meta.get("cv") or {}
    if cv.get("per_fold"):
        lines += [f"## Cross-validation folds ({cv.get('k')} folds by {cv.get('by')})", ""]
        bpf = {f["fold"]: f for f in cv.get("baseline_per_fold") or []}
        lines += _table(
            ["fold", "sentences", "gold", "strict F1", "typed F1", "sent. acc", "rules strict F1"],
            [
                [
                    f["fold"],
                    f.get("n_sentences"),
                    f.get("targets_n_gold"),
                    _f(f.get("targets_strict_f")),
                    _f(f.get("targets_typed_f")),
                    _f(f.get("sentcat_accuracy")),
                    _f(bpf.get(f["fold"], {}).get("targets_strict_f")),
                ]
                for f in cv["per_fold"]
            ],
        )

    err = doc.get("errors") or {}
    lines += ["## Errors", ""]

    def block(title: str, items: list[dict[str, Any]], header: list[str], row: Any, total: Any = None) -> None:
        n = total if total is not None else len(items)
        lines.extend([f"### {title} ({n})", ""])
        if items:
            lines.extend(_table(header, [row(e) for e in items[:MAX_ROWS]]))
            if len(items) > MAX_ROWS:
                lines.extend([f"… {len(items) - MAX_ROWS} more in metrics.json.", ""])

    loc = lambda e: f"{e['doc_id']}:{e['start']}"  # noqa: E731
    block(
        "Missed gold targets",
        err.get("missed", []),
        ["where", "gold target", "category"],
        lambda e: [loc(e), e["text"], e["category"]],
        doc.get("targets_missed"),
    )
    block(
        "Spurious predicted targets",
        err.get("spurious", []),
        ["where", "predicted target", "category"],
        lambda e: [loc(e), e["text"], e["category"]],
        doc.get("targets_spurious"),
    )
    block(
        "Boundary mismatches",
        err.get("boundary", []),
        ["where", "gold", "predicted"],
        lambda e: [f"{e['doc_id']}:{e['gold_start']}", e["gold_text"], e["pred_text"]],
        doc.get("targets_boundary"),
    )
    block(
        "Target category errors (span right)",
        err.get("category", []),
        ["where", "target", "gold", "predicted"],
        lambda e: [loc(e), e["text"], e["category"], e["pred_category"]],
    )
    block(
        "Field errors (span right)",
        err.get("fields", []),
        ["where", "target", "field", "gold", "predicted"],
        lambda e: [loc(e), e["text"], e["field"], e["gold"], e["pred"]],
    )
    block(
        "Sentence category errors",
        err.get("sentences", []),
        ["where", "sentence", "gold", "predicted"],
        lambda e: [loc(e), e["text"][:60], e["gold"], e["pred"]],
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;max-width:1400px}
table.s{border-collapse:collapse;width:100%}table.s td{border-top:1px solid #ddd;padding:4px 6px;vertical-align:top}
td.t{width:46%;line-height:1.9}td.i{color:#777;font-size:.8em;white-space:nowrap}
mark{padding:1px 2px;border-radius:3px}mark.correct{background:#b7e4c7}mark.boundary{background:#ffd8a8}
mark.missed{background:#ffa8a8}mark.spurious{background:#ffa8a8;text-decoration:underline wavy #c00}
.cat{font-size:.75em;color:#555;border:1px solid #bbb;border-radius:3px;padding:0 3px;margin-left:4px}
.bad{border-color:#c00;color:#c00}.warn{background:#fff3cd;padding:.6em;border:1px solid #e0c36a}
body.errors-only tr.ok{display:none}
"""


def _marked(raw: str, start: int, end: int, spans: list[tuple[Target, str]]) -> str:
    """Sentence text with spans wrapped in <mark>; spans are clipped to the sentence for display."""
    out, pos = [], start
    for t, cls in sorted(spans, key=lambda x: (x[0].start, x[0].end)):
        a, b = max(t.start, pos), min(t.end, end)
        if a >= b:
            continue
        out.append(html.escape(raw[pos:a]))
        title = html.escape(
            f"[{t.start},{t.end}) {t.category} value={t.value} unit={t.unit} bound={t.bound} direction={t.direction}"
        )
        out.append(f'<mark class="{cls}" title="{title}">{html.escape(raw[a:b])}</mark>')
        pos = b
    out.append(html.escape(raw[pos:end]))
    return "".join(out)


def render_html(doc: dict[str, Any], docs: Sequence[GoldDocument], predictions: dict[str, list[SentenceRecord]]) -> str:
    """The report text, gold and predicted targets marked side by side, one row per gold sentence."""
    meta = doc.get("meta", {})
    base = doc.get("baseline") or {}
    split = meta.get("split", "?")
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>Evaluation {html.escape(str(meta.get('run_id', '')))}</title><style>{_CSS}</style></head><body>",
        f"<h1>Evaluation {html.escape(str(meta.get('run_id', '')))}</h1>",
    ]
    if "NOT" in split:
        parts.append(f"<p class='warn'><b>Split: {html.escape(split)}.</b> Not an accuracy estimate.</p>")
    parts.append(
        f"<p>System <code>{html.escape(str(meta.get('system')))}</code>; split <b>{html.escape(split)}</b>; "
        f"strict target F1 <b>{_f(doc.get(HEADLINE))}</b> {_ci(doc.get(HEADLINE + '_ci'))} "
        f"(rules {_f(base.get(HEADLINE))} {_ci(base.get(HEADLINE + '_ci'))}); typed F1 {_f(doc.get('targets_typed_f'))}; "
        f"sentence category accuracy {_f(doc.get('sentcat_accuracy'))}. See report.md for all tables.</p>"
    )
    parts.append(
        "<p><mark class='correct'>correct</mark> <mark class='boundary'>boundary mismatch</mark> "
        "<mark class='missed'>missed</mark> <mark class='spurious'>spurious</mark> — hover a mark for its fields. "
        "<label><input type='checkbox' onchange=\"document.body.classList.toggle('errors-only', this.checked)\"> "
        "only sentences with errors</label></p>"
    )
    for gd in docs:
        parts.append(f"<h2>{html.escape(gd.doc_id)}</h2><table class='s'>")
        parts.append(
            "<tr><td class='i'>sentence</td><td class='t'><b>gold</b></td><td class='t'><b>predicted</b></td></tr>"
        )
        for u in align_document(gd, predictions.get(gd.doc_id, [])).units:
            r = score_unit(u)
            g_marks = [(gt, "correct") for gt, _ in r.correct] + [(gt, "boundary") for gt, _ in r.boundary]
            g_marks += [(t, "missed") for t in r.missed]
            p_marks = [(pt, "correct") for _, pt in r.correct] + [(pt, "boundary") for _, pt in r.boundary]
            p_marks += [(t, "spurious") for t in r.spurious]
            cat_ok = u.gold.category == u.pred_category
            ok = (
                cat_ok
                and not (r.boundary or r.missed or r.spurious)
                and all(gt.category == pt.category for gt, pt in r.correct)
            )
            s = u.gold
            parts.append(
                f"<tr class='{'ok' if ok else 'err'}'><td class='i'>#{s.sent_id}<br>[{s.start},{s.end})</td>"
                f"<td class='t'>{_marked(gd.raw, s.start, s.end, g_marks)}"
                f"<span class='cat'>{html.escape(s.category)}</span></td>"
                f"<td class='t'>{_marked(gd.raw, s.start, s.end, p_marks)}"
                f"<span class='cat{'' if cat_ok else ' bad'}'>{html.escape(u.pred_category)}</span></td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


# --------------------------------------------------------------------------- history and plots


def history_table(lines: Sequence[dict[str, Any]]) -> str:
    """Plain-text table of history lines, oldest first."""
    header = ["#", "time", "system", "split", "strict F1", "95% CI", "typed F1", "sent acc", "rules F1", "commit"]
    rows = []
    for i, x in enumerate(lines):
        rows.append(
            [
                str(i),
                str(x.get("time", ""))[:16],
                str(x.get("system", "")),
                str(x.get("split", ""))[:40],
                _f(x.get(HEADLINE)),
                _ci(x.get(HEADLINE + "_ci")),
                _f(x.get("targets_typed_f")),
                _f(x.get("sentcat_accuracy")),
                _f(x.get(f"baseline_{HEADLINE}")),
                str(x.get("git_commit") or "")[:8],
            ]
        )
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)]) + "\n"


def plot_history(lines: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """PNG of the headline metric over runs (with CIs), the latest rule baseline as a reference line.

    Runs scored on training data are drawn hollow and labelled, so they are never read as accuracy.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(lines) + 3), 4))
    xs = list(range(len(lines)))
    for i, x in enumerate(lines):
        y = x.get(HEADLINE)
        if y is None:
            continue
        ci = x.get(HEADLINE + "_ci") or [y, y]
        trained = "NOT" in str(x.get("split", ""))
        cv = str(x.get("split", "")).startswith("cv")
        color = "tab:gray" if x.get("system") == "rules" else ("tab:blue" if cv else "tab:orange")
        ax.errorbar(
            [i],
            [y],
            yerr=[[y - ci[0]], [ci[1] - y]],
            fmt="o",
            color=color,
            capsize=3,
            mfc="white" if trained else color,
        )
    base = next(
        (x.get(f"baseline_{HEADLINE}") for x in reversed(lines) if x.get(f"baseline_{HEADLINE}") is not None), None
    )
    if base is not None:
        ax.axhline(base, color="tab:gray", linestyle="--", label=f"rule baseline (latest) {base:.3f}")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", ls="", color="tab:blue", label="cross-validated"),
        Line2D([], [], marker="o", ls="", color="tab:orange", label="model / predictions, single split"),
        Line2D([], [], marker="o", ls="", color="tab:orange", mfc="white", label="train split: NOT accuracy"),
        Line2D([], [], marker="o", ls="", color="tab:gray", label="rules"),
    ]
    if base is not None:
        handles.append(Line2D([], [], color="tab:gray", ls="--", label=f"rule baseline (latest) {base:.3f}"))
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x.get("run_id", i))[:24] for i, x in enumerate(lines)], rotation=45, ha="right", fontsize=6)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("strict target F1 (95% CI)")
    ax.set_title("govtarget evaluation history")
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120)
    plt.close(fig)
    return p


#: English glosses for plot labels where matplotlib has no CJK font (no tofu boxes).
CATEGORY_EN: dict[str, str] = {
    "金融": "finance",
    "商贸": "commerce",
    "文旅": "culture/tourism",
    "产业": "industry",
    "农业": "agriculture",
    "科创": "sci-tech",
    "开放": "opening-up",
    "城建": "urban/invest",
    "生态": "ecology",
    "民生": "livelihood",
    "改革": "reform",
    "安全": "safety",
    "政府": "government",
    "综合": "general",
}


def _has_cjk_font() -> bool:
    from matplotlib import font_manager

    return any(("CJK" in f.name or "Hei" in f.name or "Han Sans" in f.name) for f in font_manager.fontManager.ttflist)


def plot_label(category: str) -> str:
    return category if _has_cjk_font() else CATEGORY_EN.get(category, category)


def errors_table(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The listed errors of one kind (missed, spurious, boundary, category, fields, sentences, outside)."""
    return list((doc.get("errors") or {}).get(kind, []))


def per_category_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"category": c, **v} for c, v in (doc.get("targets_per_category") or {}).items()]


def plot_per_category(doc: dict[str, Any], ax: Any = None) -> Any:
    """Bar chart of typed F1 and span recall per target category, with gold counts."""
    import matplotlib.pyplot as plt

    rows = per_category_rows(doc)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["f"] for r in rows], width=0.4, label="typed F1")
    ax.bar([x + 0.2 for x in xs], [r["span_r"] for r in rows], width=0.4, label="span recall")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{plot_label(r['category'])}\n(n={r['support']})" for r in rows], fontsize=7, rotation=45)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    return ax


def plot_confusion(doc: dict[str, Any], ax: Any = None) -> Any:
    """Sentence-category confusion matrix (rows gold, columns predicted)."""
    import matplotlib.pyplot as plt

    conf = doc.get("sentcat_confusion") or {"labels": [], "matrix": []}
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    if conf["matrix"]:
        ax.imshow(conf["matrix"], cmap="Blues")
        for i, row in enumerate(conf["matrix"]):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(conf["labels"])))
    ax.set_yticks(range(len(conf["labels"])))
    ax.set_xticklabels([plot_label(c) for c in conf["labels"]], rotation=90, fontsize=7)
    ax.set_yticklabels([plot_label(c) for c in conf["labels"]], fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    return ax
