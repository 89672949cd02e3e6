"""Batch tagging: discovery, failures, resume after a kill, outputs the evaluator accepts, CSV export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED
from helpers import REPORT, FakePredictor

from pipeline.annotation.gold import validate_records
from pipeline.errors import OutputError
from pipeline.tagging.batch import MANIFEST, BatchConfig, discover, load_manifest, run_batch
from pipeline.tagging.export import TARGET_COLUMNS, canonical_unit, rows_csv, target_row
from pipeline.tagging.tagger import Tagger
from pipeline.text.reader import read_report


class Interrupt:
    """Wraps a tagger and raises KeyboardInterrupt (as a kill would) after ``n`` documents."""

    name = "fake"

    def __init__(self, inner: Tagger, n: int) -> None:
        self.inner, self.n = inner, n

    def tag_many(self, docs):  # noqa: ANN001
        if self.n <= 0:
            raise KeyboardInterrupt
        self.n -= len(docs)
        return self.inner.tag_many(docs)


def _tagger() -> Tagger:
    return Tagger(FakePredictor())


def _make_inputs(root: Path) -> Path:
    src = root / "in"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    (src / "a" / "same.txt").write_text(REPORT, encoding="utf-8")
    (src / "b" / "same.txt").write_text(REPORT.replace("4.6", "5.1"), encoding="utf-8")
    (src / "gbk.txt").write_bytes((REPORT * 3).replace("1450", "1500").encode("gbk"))
    (src / "crlf.txt").write_bytes(REPORT.replace("\n", "\r\n").encode("utf-8-sig"))
    (src / "binary.txt").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    (src / "boom.txt").write_text(REPORT + "二〇二五年 BOOM 3个。\n", encoding="utf-8")
    (src / "empty.txt").write_text("", encoding="utf-8")
    (src / "notes.md").write_text("ignored", encoding="utf-8")
    return src


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file of a batch folder but the run's summary and the lock file (it names the pid)."""
    from pipeline.tagging.batch import LOCK

    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name not in ("summary.json", LOCK)}


def test_discover_disambiguates_duplicate_stems(tmp_path: Path) -> None:
    src = _make_inputs(tmp_path)
    files, missing = discover([src, tmp_path / "nope.txt"])
    ids = [f.doc_id for f in files]
    assert len(ids) == len(set(ids)) == 7
    same = sorted(i for i in ids if i.startswith("same-"))
    assert len(same) == 2 and "gbk" in ids and "binary" in ids
    assert [m.source for m in missing] == [str(tmp_path / "nope.txt")]
    # Deterministic: the same inputs give the same ids, whatever the order of the arguments.
    assert [f.doc_id for f in discover([src])[0]] == ids
    ab = {f.key: f.doc_id for f in discover([src / "a", src / "b"])[0]}
    ba = {f.key: f.doc_id for f in discover([src / "b", src / "a"])[0]}
    assert ab == ba and len(set(ab.values())) == 2


def test_batch_mixed_folder_resume_and_outputs(tmp_path: Path) -> None:
    src = _make_inputs(tmp_path)
    out = tmp_path / "out"
    s1 = run_batch([src], out, tagger=_tagger(), progress=False)
    by_id = {r.doc_id: r for r in s1.results}
    assert by_id["binary"].status == "failed" and "binary" in by_id["binary"].reason
    assert by_id["boom"].status == "failed" and "exploded" in by_id["boom"].reason
    assert by_id["empty"].status == "skipped"
    ok = sorted(r.doc_id for r in s1.results if r.status == "ok")
    assert len(ok) == 4 and "gbk" in ok and "crlf" in ok
    assert by_id["gbk"].encoding.startswith("gb")
    # every output validates against the raw text, as the evaluator would load it
    for doc_id in ok:
        res = by_id[doc_id]
        raw = read_report(res.source).text
        lines = (out / f"{doc_id}.jsonl").read_text(encoding="utf-8").splitlines()
        recs = [(i + 1, json.loads(x)) for i, x in enumerate(lines)]
        assert validate_records(recs, raw, doc_id) == []
        for _, r in recs:
            assert r["doc_id"] == doc_id and raw[r["start"] : r["end"]] == r["text"]
            for t in r["targets"]:
                assert raw[t["start"] : t["end"]] == t["text"]
                assert r["part"] != "review"  # review figures are results, suppressed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["documents"] == {"total": 7, "ok": 4, "failed": 2, "skipped": 1}
    assert {f["doc_id"] for f in summary["failed"]} == {"binary", "boom"}
    # targets.csv: BOM, header, one row per target, no duplicates
    raw_csv = (out / "targets.csv").read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert tuple(rows[0].keys()) == TARGET_COLUMNS
    n_targets = sum(r.targets for r in s1.results if r.status == "ok")
    assert len(rows) == n_targets > 0
    first = _outputs(out)

    # rerun: everything done is skipped, the failures are reported again, outputs unchanged
    s2 = run_batch([src], out, tagger=_tagger(), progress=False)
    assert s2.count("ok") == 0 and s2.count("skipped") == 5 and s2.count("failed") == 2
    assert _outputs(out) == first
    rows2 = list(csv.DictReader(io.StringIO((out / "targets.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows2) == len(rows)

    # a changed input is redone; a deleted output is redone
    (src / "a" / "same.txt").write_text(REPORT + "新增绿地3个。\n", encoding="utf-8")
    (out / "gbk.jsonl").unlink()
    s3 = run_batch([src], out, tagger=_tagger(), progress=False)
    assert sorted(r.doc_id for r in s3.results if r.status == "ok") == sorted(["gbk", by_id_same_a(s1, src)])


def by_id_same_a(summary, src: Path) -> str:  # noqa: ANN001
    return next(r.doc_id for r in summary.results if r.source == str(src / "a" / "same.txt"))


def test_killed_run_resumes_to_identical_outputs(tmp_path: Path) -> None:
    src = _make_inputs(tmp_path)
    cfg = BatchConfig(chunk_chars=1)  # one document per chunk, so the kill lands mid-run
    ref = tmp_path / "ref"
    run_batch([src], ref, cfg, tagger=_tagger(), progress=False)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, cfg, tagger=Interrupt(_tagger(), 2), progress=False)
    assert not (out / "targets.csv").exists()
    done_before = load_manifest(out)
    assert 1 <= len(done_before) < 5
    s = run_batch([src], out, cfg, tagger=_tagger(), progress=False)
    assert s.count("skipped") >= 2  # the finished ones (and the empty one) are not redone
    assert _outputs(out) == _outputs(ref)


@pytest.mark.slow
def test_subprocess_killed_then_resumed(tmp_path: Path) -> None:
    """A real kill (SIGKILL) in the middle of writing leaves no output that looks done."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(30):
        (src / f"r{i:02d}.txt").write_text(REPORT * 40, encoding="utf-8")
    out = tmp_path / "out"
    script = (
        "import sys, os, signal\n"
        "sys.path[:0] = [sys.argv[3], sys.argv[3] + '/tests']\n"
        "from test_batch import _tagger\n"
        "from pipeline.tagging.batch import run_batch, BatchConfig\n"
        "n = [0]\n"
        "def cb(r):\n"
        "    n[0] += 1\n"
        "    if n[0] == 7: os.kill(os.getpid(), signal.SIGKILL)\n"
        "run_batch([sys.argv[1]], sys.argv[2], BatchConfig(chunk_chars=1), tagger=_tagger(), progress=False, on_document=cb)\n"
    )
    p = subprocess.run([sys.executable, "-c", script, str(src), str(out), str(ROOT)], capture_output=True, timeout=120)
    assert p.returncode != 0
    man = load_manifest(out)
    assert 5 <= len(man) <= 7
    s = run_batch([src], out, BatchConfig(chunk_chars=1), tagger=_tagger(), progress=False)
    assert s.count("skipped") == len(man) and s.count("ok") == 30 - len(man)
    ref = tmp_path / "ref"
    run_batch([src], ref, BatchConfig(chunk_chars=1), tagger=_tagger(), progress=False)
    a, b = _outputs(out), _outputs(ref)
    a.pop(MANIFEST), b.pop(MANIFEST)  # input keys are absolute paths: same here, but be safe
    assert a == b


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    src = _make_inputs(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match="not a folder"):
        run_batch([src], blocker, tagger=_tagger(), progress=False)
    assert blocker.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(OutputError, match="not writable"):  # a folder below a file cannot be created
        run_batch([src], blocker / "sub", tagger=_tagger(), progress=False)
    assert blocker.read_text(encoding="utf-8") == "keep me"
    if os.geteuid() == 0:
        pytest.skip("root can write into read-only folders")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep.jsonl").write_text("x", encoding="utf-8")
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            run_batch([src], ro, tagger=_tagger(), progress=False)
        assert [p.name for p in ro.iterdir()] == ["keep.jsonl"]
    finally:
        ro.chmod(0o700)


def test_cli_batch_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "x.txt").write_text(REPORT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pipeline.cli", "batch", "--quiet", "--out"]
    p = subprocess.run(cmd + [str(tmp_path / "o1"), str(good)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    (good / "bad.txt").write_bytes(b"\x7fELF" + bytes(300))
    p = subprocess.run(cmd + [str(tmp_path / "o1"), str(good)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 1 and "bad.txt" in p.stderr and "1 skipped" in p.stderr
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    p = subprocess.run(cmd + [str(blocker), str(good)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2 and "error:" in p.stderr


def test_seed_report_offsets_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    s = run_batch([SEED], out, tagger=_tagger(), progress=False)
    assert s.count("ok") == 1
    raw = read_report(SEED).text
    rows = list(csv.DictReader(io.StringIO((out / "targets.csv").read_text(encoding="utf-8-sig"))))
    assert rows
    for r in rows:
        assert raw[int(r["start"]) : int(r["end"])] == r["text"]
        assert r["part"] in ("plan", "other")


def test_canonical_units_keep_percent_and_points_apart() -> None:
    assert canonical_unit("亿元") == ("yuan", 10**8)
    assert canonical_unit("万人") == ("persons", 10**4)
    assert canonical_unit("%") == ("percent", 1)
    assert canonical_unit("个百分点")[0] not in (None, "percent")
    assert canonical_unit(None) == (None, None)
    text = rows_csv([{"doc_id": "d", "text": 'a,b"c', "value": 1.5}])
    assert text.startswith("\ufeff") and list(csv.DictReader(io.StringIO(text[1:])))[0]["text"] == 'a,b"c'


def test_target_row_fields_and_provenance() -> None:
    doc = _tagger()(REPORT, "r")
    rows = [target_row(s, t, "in/r.txt") for s in doc.sentences for t in s.targets]
    by_text = {r["text"]: r for r in rows}
    r = by_text["社会消费品零售总额突破1450亿元"]
    assert (r["value"], r["unit"], r["unit_canonical"], r["multiplier"], r["value_canonical"]) == (
        1450,
        "亿元",
        "yuan",
        10**8,
        145_000_000_000,
    )
    assert (r["bound"], r["direction"], r["part"], r["source"], r["doc_id"]) == (
        "at_least",
        None,
        "plan",
        "in/r.txt",
        "r",
    )
    assert REPORT[r["start"] : r["end"]] == r["text"]
    g = by_text["地区生产总值增长6%左右"]
    assert (g["unit_canonical"], g["bound"], g["direction"]) == ("percent", "about", "up")
    assert not any("5.2" in x for x in by_text)  # the review figure is a result, not a target


def test_redo_reasons(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(REPORT, encoding="utf-8")
    (src / "b.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out"
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [r.reason for r in s.results] == ["new", "new"]
    (src / "a.txt").write_text(REPORT + "新增绿地3个。\n", encoding="utf-8")
    (out / "b.jsonl").write_text("tampered\n", encoding="utf-8")
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [(r.status, r.reason) for r in s.results] == [("ok", "input changed"), ("ok", "output missing or modified")]
    s = run_batch([src], out, BatchConfig(suppress_review=False), tagger=_tagger(), progress=False)
    assert {r.reason for r in s.results} == {"model, code or configuration changed"}
    assert json.loads((out / "b.jsonl").read_text(encoding="utf-8").splitlines()[0])["doc_id"] == "b"


def test_docx_input(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in REPORT.splitlines():
        d.add_paragraph(line)
    src = tmp_path / "in"
    src.mkdir()
    d.save(str(src / "w.docx"))
    out = tmp_path / "out"
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [r.status for r in s.results] == ["ok"] and s.results[0].targets == 3
    raw = (out / "w.txt").read_text(encoding="utf-8")  # the text the offsets refer to is kept
    for line in (out / "w.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        assert all(raw[t["start"] : t["end"]] == t["text"] for t in r["targets"])


def test_torn_manifest_line_is_dropped(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for n in "abc":
        (src / f"{n}.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out"
    run_batch([src], out, tagger=_tagger(), progress=False)
    lines = (out / MANIFEST).read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 3
    # A kill mid-line: the journal had claimed c.jsonl (before writing it), then its entry was torn.
    claim = json.dumps({"owns": "c.jsonl"}) + "\n"
    (out / MANIFEST).write_text("".join(lines[:2]) + claim + lines[2][: len(lines[2]) // 2], encoding="utf-8")
    assert len(load_manifest(out)) == 2
    s = run_batch([src], out, tagger=_tagger(), progress=False)
    assert [r.status for r in s.results].count("ok") == 1
    assert (out / MANIFEST).read_text(encoding="utf-8").splitlines(keepends=True) == lines


def test_tag_command_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main

    monkeypatch.setattr(
        Tagger,
        "load",
        classmethod(lambda cls, spec, **kw: cls(FakePredictor(), suppress_review=kw.get("suppress_review", True))),
    )
    f = tmp_path / "r.txt"
    f.write_text(REPORT, encoding="utf-8")
    assert main(["tag", str(f)]) == 0
    out = capsys.readouterr().out
    assert "社会消费品零售总额突破1450亿元" in out and "at_least" in out and "yuan" in out
    assert main(["tag", "--format", "jsonl", str(f)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and all(REPORT[r["start"] : r["end"]] == r["text"] for r in rows)
    assert main(["tag", "--format", "csv", str(f), str(tmp_path / "missing.txt")]) == 1
    text = capsys.readouterr().out
    assert text.startswith("\ufeff") and len(list(csv.DictReader(io.StringIO(text[1:])))) == 3
    assert main(["tag", "--format", "gold", str(f)]) == 0
    recs = [(i + 1, json.loads(x)) for i, x in enumerate(capsys.readouterr().out.splitlines())]
    assert validate_records(recs, REPORT, "r") == []


def test_targets_csv_covers_every_run_into_the_folder(tmp_path: Path) -> None:
    """Two runs over disjoint inputs into one folder: targets.csv lists both runs' documents
    (it covered only the last run's)."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "one.txt").write_text(REPORT, encoding="utf-8")
    (b / "two.txt").write_text(REPORT.replace("6%", "7%"), encoding="utf-8")
    out = tmp_path / "out"
    run_batch([a], out, tagger=_tagger(), progress=False)
    run_batch([b], out, tagger=_tagger(), progress=False)
    rows = (out / "targets.csv").read_text(encoding="utf-8-sig").splitlines()
    docs = {line.split(",")[0] for line in rows[1:]}
    assert {"one", "two"} <= docs, docs
    assert len(load_manifest(out)) == 2
