"""Evaluation runs end to end: CLI, split labels, CV with an injected trainer, history, notebook."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import _gold_dir, copy_doc, tiny_gold

from pipeline.annotation.gold import write_gold
from pipeline.cli import evaluate
from pipeline.evaluation.evalrun import (
    TRAIN_SPLIT,
    EvalConfig,
    gold_set_sha256,
    load_predictions,
    load_run,
    model_split,
    model_weights_sha256,
    read_history_lines,
    run_evaluation,
)
from pipeline.predict import SentenceInput, SentencePrediction, SpanPrediction
from pipeline.records import GoldDocument, SentenceRecord

ROOT = Path(__file__).resolve().parent.parent


def _fixed(pred: dict[str, list[SentenceRecord]]):  # noqa: ANN202
    """A DocTagger that returns fixed predictions."""
    return lambda docs: {d.doc_id: pred.get(d.doc_id, []) for d in docs}


def _quiet(_: str) -> None:
    pass


class Memorizer:
    """A fake trained predictor: knows the targets of exactly the sentences it was trained on."""

    name = "memorizer"

    def __init__(self, docs: Sequence[GoldDocument]) -> None:
        self.seen = {
            s.text: [(t.start - s.start, t.end - s.start, t.category) for t in s.targets]
            for d in docs
            for s in d.sentences
        }
        self.cats = {s.text: s.category for d in docs for s in d.sentences}

    def predict(self, sentences: list[SentenceInput]) -> list[SentencePrediction]:
        out = []
        for s in sentences:
            spans = [SpanPrediction(a, b, category=c) for a, b, c in self.seen.get(s.text, [])]
            out.append(SentencePrediction(self.cats.get(s.text, "综合"), spans=spans))
        return out


# ----------------------------------------------------------------------------- CLI end to end


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tiny_gold()
    gdir = _gold_dir(tmp_path, [gold])
    pred = copy_doc(gold)
    pred[2].targets = []
    write_gold(pred, tmp_path / "pred" / "d1.jsonl")
    out = tmp_path / "reports"
    rc = evaluate.main(
        [
            "--pred",
            str(tmp_path / "pred"),
            "--gold",
            str(gdir),
            "--out",
            str(out),
            "--run-id",
            "r1",
            "--resamples",
            "100",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "targets_strict_f (headline): 0.750" in text and "split: all gold sentences" in text
    run = out / "r1"
    for f in ("metrics.json", "report.md", "report.html", "predictions/d1.jsonl"):
        assert (run / f).exists(), f
    m = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert m["targets_strict_r"] == pytest.approx(3 / 5) and m["targets_missed"] == 2
    assert m["meta"]["gold_sha256"] == gold_set_sha256([gold]) and m["meta"]["headline"] == "targets_strict_f"
    assert m["baseline"] is not None and "targets_strict_f" in m["baseline"]  # rules beside the system
    md = (run / "report.md").read_text(encoding="utf-8")
    assert "能耗强度下降3%" in md and "Missed gold targets (2)" in md
    html = (run / "report.html").read_text(encoding="utf-8")
    assert '<mark class="missed"' in html and '<mark class="correct"' in html
    # the saved predictions score the same when read back
    again = load_predictions(run / "predictions")
    assert [len(s.targets) for s in again["d1"]] == [len(s.targets) for s in pred]

    assert (
        evaluate.main(
            ["--system", "rules", "--gold", str(gdir), "--out", str(out), "--run-id", "r2", "--resamples", "0"]
        )
        == 0
    )
    capsys.readouterr()
    assert evaluate.main(["history", "--out", str(out)]) == 0
    hist = capsys.readouterr().out
    assert "pred:pred" in hist and "rules" in hist
    assert (out / "history.png").stat().st_size > 1000
    lines = read_history_lines(out / "history.jsonl")
    assert [x["run_id"] for x in lines] == ["r1", "r2"]
    assert lines[0]["gold_sha256"] == lines[1]["gold_sha256"] and lines[0]["targets_strict_f"] == pytest.approx(0.75)


def test_cli_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tiny_gold()
    a = _gold_dir(tmp_path / "a", [gold])
    other = copy_doc(gold)
    other[1].category = "民生"
    b = _gold_dir(tmp_path / "b", [GoldDocument("d1", gold.raw, other)])
    assert evaluate.main(["agree", str(a / "d1.jsonl"), str(b / "d1.jsonl")]) == 0
    text = capsys.readouterr().out
    assert "target F1 strict  1.000" in text and "sentence category agreement 0.750" in text


def test_cli_reports_bad_gold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "x.jsonl").write_text("{not json\n", encoding="utf-8")
    assert evaluate.main(["--gold", str(tmp_path / "gold"), "--out", str(tmp_path / "r")]) == 2
    assert "x.jsonl:1" in capsys.readouterr().err


def test_predictions_on_another_text_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = tiny_gold()
    gdir = _gold_dir(tmp_path, [gold])
    pred = copy_doc(gold)
    t = pred[1].targets[0]
    t.start, t.end = t.start + 1, t.end + 1  # shifted offsets, text unchanged: another version of the text
    write_gold(pred, tmp_path / "pred.jsonl")
    rc = evaluate.main(["--pred", str(tmp_path / "pred.jsonl"), "--gold", str(gdir), "--out", str(tmp_path / "r")])
    assert rc == 2 and "d1 sent_id 1: target" in capsys.readouterr().err
    assert not (tmp_path / "r" / "history.jsonl").exists()


def test_load_predictions_names_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"doc_id": "d", "sent_id": 0, "start": 0, "end": 1, "text": "a", "category": "综合"}\n{"x": 1}\n')
    with pytest.raises(ValueError, match="p.jsonl:2"):
        load_predictions(f)


# ----------------------------------------------------------------------------- split labels


def test_gold_hash_matches_the_training_code() -> None:
    from pipeline.training import loop as training

    docs = [tiny_gold("d1"), tiny_gold("d2")]
    assert gold_set_sha256(docs) == training.gold_sha256(docs) == gold_set_sha256(docs[::-1])
    other = copy_doc(docs[0])
    t = other[1].targets[0]
    other[1].targets[0] = dataclasses.replace(t, fields=dataclasses.replace(t.fields, bound="exact"))
    assert gold_set_sha256([GoldDocument("d1", docs[0].raw, other), docs[1]]) != gold_set_sha256(docs)


def test_model_split_labels() -> None:
    h = "abc"
    assert model_split({}, h, ["d1"])[0] == TRAIN_SPLIT
    assert model_split({"train_gold_sha256": h}, h, ["d1"])[0] == TRAIN_SPLIT
    assert model_split({"train_gold_sha256": "zzz"}, h, ["d1"])[0] == TRAIN_SPLIT  # documents unknown
    assert model_split({"train_gold_sha256": "zzz", "train_documents": ["d1", "x"]}, h, ["d1"])[0] == TRAIN_SPLIT
    assert model_split({"train_gold_sha256": "zzz", "train_documents": ["x"]}, h, ["d1"])[0] == "held-out"


def test_model_on_its_training_data_is_labelled_everywhere(tmp_path: Path) -> None:
    gold = tiny_gold()
    mdir = tmp_path / "model"
    mdir.mkdir()
    (mdir / "model.safetensors").write_bytes(b"weights")
    (mdir / "govtarget.json").write_text(json.dumps({"train_gold_sha256": gold_set_sha256([gold])}))
    from pipeline.evaluation.evalrun import tagger_docs
    from pipeline.tagging.tagger import Tagger

    cfg = EvalConfig(system="model", path=str(mdir), out=str(tmp_path / "r"), run_id="m", n_resamples=50)
    res = run_evaluation(
        cfg,
        gold_docs=[gold],
        system_tagger=tagger_docs(Tagger(Memorizer([gold]))),
        baseline_tagger=_fixed({}),
        log=_quiet,
    )
    assert res.metrics["targets_strict_f"] == 1.0  # memorised: the reason for the label
    assert res.meta["split"] == TRAIN_SPLIT and res.history_line["split"] == TRAIN_SPLIT
    assert res.meta["model_sha256"] == model_weights_sha256(mdir) and len(res.meta["model_sha256"]) == 64
    assert "NOT an accuracy estimate" in (res.run_dir / "report.md").read_text(encoding="utf-8")
    assert "NOT an accuracy estimate" in (res.run_dir / "report.html").read_text(encoding="utf-8")
    assert json.loads((res.run_dir / "metrics.json").read_text())["meta"]["split"] == TRAIN_SPLIT


# ----------------------------------------------------------------------------- cross-validation


def test_cv_of_a_fixed_system_pools_to_the_full_score(tmp_path: Path) -> None:
    from helpers import RAW, _t

    raw = "重庆日报\n" + RAW
    gold = tiny_gold(raw=raw)
    pred = copy_doc(gold)
    pred[2].targets = pred[2].targets[:1]
    pred[3].category = "产业"
    # a prediction in the furniture: outside every gold sentence, counted once however many folds
    pred.insert(0, SentenceRecord("d1", 99, 0, 4, raw[0:4], "综合", [_t(raw, 0, 4, "综合")]))
    fixed = _fixed({"d1": pred})
    full = run_evaluation(
        EvalConfig(out=str(tmp_path), run_id="full", n_resamples=0), gold_docs=[gold], system_tagger=fixed, log=_quiet
    )
    cv = run_evaluation(
        EvalConfig(out=str(tmp_path), run_id="cv", cv=2, n_resamples=0),
        gold_docs=[gold],
        system_tagger=fixed,
        log=_quiet,
    )
    for k in ("targets_strict_f", "targets_typed_f", "sentcat_accuracy", "fields_all_acc", "targets_pred_outside_gold"):
        assert cv.metrics[k] == pytest.approx(full.metrics[k]), k
    assert cv.meta["split"].startswith("cv (2-fold by paragraph")
    per_fold = cv.meta["cv"]["per_fold"]
    assert len(per_fold) == 2 and sum(f["n_sentences"] for f in per_fold) == len(gold.sentences)
    assert cv.meta["cv"]["baseline_per_fold"] == per_fold  # rules are their own baseline, fold by fold
    assert "## Cross-validation folds (2 folds by paragraph)" in (cv.run_dir / "report.md").read_text()


def test_cv_with_model_retrains_per_fold_without_leakage(tmp_path: Path) -> None:
    gold = tiny_gold()
    seen_train: list[set[tuple[int, int]]] = []

    def train_fn(train: list[GoldDocument], dev: list[GoldDocument], config: object) -> Memorizer:
        seen_train.append({(s.start, s.end) for d in train + dev for s in d.sentences})
        return Memorizer(train + dev)

    mdir = tmp_path / "model"
    mdir.mkdir()
    (mdir / "govtarget.json").write_text(json.dumps({"train_args": {"dev_fraction": 0.15}}))
    cfg = EvalConfig(system="model", path=str(mdir), out=str(tmp_path / "r"), run_id="cv", cv=2, n_resamples=0)
    res = run_evaluation(cfg, gold_docs=[gold], train_fn=train_fn, baseline_tagger=_fixed({}), log=_quiet)
    assert len(seen_train) == 2
    from pipeline.training.cv import make_folds

    folds = make_folds([gold], k=2, seed=0)
    for fold, trained in zip(folds, seen_train):
        tested = {(s.start, s.end) for d in fold.test for s in d.sentences}
        assert not tested & trained  # the model of a fold never saw its test sentences
    # A memoriser knows nothing out of fold: cross-validation exposes it (train score would be 1.0).
    assert res.metrics["targets_strict_r"] == 0.0
    assert res.meta["cv"]["baseline_per_fold"] is not None and res.baseline is not None


# ----------------------------------------------------------------------------- history robustness


def test_history_survives_a_torn_line(tmp_path: Path) -> None:
    gold = tiny_gold()
    out = tmp_path / "reports"
    out.mkdir()
    (out / "history.jsonl").write_text('{"run_id": "old", "targets_strict_f": 0.5}\n{"run_id": "tor', encoding="utf-8")
    run_evaluation(
        EvalConfig(out=str(out), run_id="new", n_resamples=0),
        gold_docs=[gold],
        system_tagger=_fixed({"d1": copy_doc(gold)}),
        log=_quiet,
    )
    assert [x["run_id"] for x in read_history_lines(out / "history.jsonl")] == ["old", "new"]
    with pytest.raises(ValueError, match="exists"):  # a run is never overwritten
        run_evaluation(
            EvalConfig(out=str(out), run_id="new", n_resamples=0),
            gold_docs=[gold],
            system_tagger=_fixed({}),
            log=_quiet,
        )
    # default ids made in the same second do not collide
    ids = [
        run_evaluation(
            EvalConfig(out=str(out), n_resamples=0), gold_docs=[gold], system_tagger=_fixed({}), log=_quiet
        ).meta["run_id"]
        for _ in range(2)
    ]
    assert ids[0] != ids[1]


# ----------------------------------------------------------------------------- notebook


@pytest.mark.slow
def test_error_analysis_notebook_runs(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    gold = tiny_gold()
    pred = copy_doc(gold)
    pred[1].targets = pred[1].targets[:1]
    res = run_evaluation(
        EvalConfig(out=str(tmp_path / "reports"), run_id="nb", n_resamples=50),
        gold_docs=[gold],
        system_tagger=_fixed({"d1": pred}),
        baseline_tagger=_fixed({}),
        log=_quiet,
    )
    assert load_run(res.run_dir).metrics["targets_missed"] == 1
    nb = nbformat.read(ROOT / "notebooks" / "error_analysis.ipynb", as_version=4)
    # The notebook must only call the package: no function or class defined in it.
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "def " not in cell.source and "class " not in cell.source
    env_before = dict(os.environ)
    os.environ["GOVTARGET_RUN_DIR"] = str(res.run_dir)
    os.environ["MPLBACKEND"] = "Agg"
    # The kernel imports this checkout's package, not whichever one is installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env_before.get("PYTHONPATH")) if x)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = "".join(
        o.get("text", "") + json.dumps(o.get("data", {}), ensure_ascii=False)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "Missed gold targets (1)" in outputs and str(res.run_dir) in outputs
