"""Annotation-tool round trip: export → import is the identity; bad files are rejected whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.annotation.annotation_io import (
    DocSource,
    OffsetMap,
    dumps_tasks,
    export_doccano,
    export_labelstudio,
    import_tasks,
    labelstudio_config,
    load_tasks,
    utf16_prefix,
)
from pipeline.annotation.gold import load_gold_file
from pipeline.cli import main
from pipeline.errors import AnnotationImportError, OffsetError
from pipeline.records import SentenceRecord, Target
from pipeline.schema import BOUNDS, CATEGORIES
from pipeline.text.segment import segment

TOY = (
    "各位代表！\r\n"
    "今年主要预期目标是：地区生产总值增长5%左右𠮷；城镇新增就业4.6万人。\r\n"
    "😀社会消费品零售总额突破1450亿元，打造数字化工厂1—2家。\n"
)


def _target(text: str, base: int, phrase: str, **kw: object) -> Target:
    i = text.index(phrase, base)
    return Target(start=i, end=i + len(phrase), text=phrase, **kw)  # type: ignore[arg-type]


def toy_records() -> list[SentenceRecord]:
    seg = segment(TOY)
    out = []
    for s in seg.sentences:
        ts = []
        if "就业" in s.text:
            ts.append(_target(TOY, s.start, "城镇新增就业4.6万人", category="民生", value=4.6, unit="万人"))
        if "零售" in s.text:
            ts.append(
                _target(
                    TOY,
                    s.start,
                    "社会消费品零售总额突破1450亿元",
                    category="商贸",
                    value=1450,
                    unit="亿元",
                    bound="at_least",
                )
            )
            ts.append(
                _target(
                    TOY,
                    s.start,
                    "打造数字化工厂1—2家",
                    category="产业",
                    value=1,
                    unit="家",
                    bound="at_least",
                    value_max=2,
                )
            )
        if "生产总值" in s.text:
            ts.append(
                _target(
                    TOY,
                    s.start,
                    "地区生产总值增长5%左右",
                    category="综合",
                    value=5,
                    unit="%",
                    bound="about",
                    direction="up",
                )
            )
        out.append(SentenceRecord("toy", s.sent_id, s.start, s.end, s.text, "综合", ts))
    return out


DOC = DocSource("toy", TOY, "toy.txt", "abc")


def _roundtrip(fmt: str, doc: DocSource, recs: list[SentenceRecord], unit: str, ou: str) -> list[SentenceRecord]:
    if fmt == "labelstudio":
        tasks = export_labelstudio(doc, recs, unit=unit, offset_unit=ou, as_annotations=True)  # type: ignore[arg-type]
    else:
        tasks = export_doccano(doc, recs, unit=unit, offset_unit=ou)  # type: ignore[arg-type]
    tasks = (
        json.loads(dumps_tasks(tasks, fmt))
        if fmt == "labelstudio"
        else [json.loads(line) for line in dumps_tasks(tasks, fmt).splitlines()]
    )
    return import_tasks(tasks, {doc.doc_id: doc}, fmt).records.get(doc.doc_id, [])  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["labelstudio", "doccano"])
@pytest.mark.parametrize("unit", ["sentence", "paragraph", "document"])
@pytest.mark.parametrize("ou", ["utf16", "codepoint"])
def test_roundtrip_toy(fmt: str, unit: str, ou: str) -> None:
    recs = toy_records()
    assert sum(len(r.targets) for r in recs) == 4
    got = _roundtrip(fmt, DOC, recs, unit, ou)
    assert [r.to_json() for r in got] == [r.to_json() for r in recs]


def test_utf16_offsets_differ_after_astral() -> None:
    tasks = export_labelstudio(DOC, toy_records(), unit="document", offset_unit="utf16", as_annotations=True)
    res = tasks[0]["annotations"][0]["result"]
    t = next(r for r in res if r["value"].get("text") == "社会消费品零售总额突破1450亿元")
    cp = TOY.index("社会消费品零售总额突破1450亿元")
    # 𠮷 and 😀 precede it: each counts two UTF-16 units.
    assert t["value"]["start"] == cp + 2
    # The same value in JavaScript terms: len of the UTF-16 encoding of the prefix.
    assert t["value"]["start"] == len(TOY[:cp].encode("utf-16-le")) // 2


def test_offset_map_rejects_inside_surrogate_pair() -> None:
    om = OffsetMap("a𠮷b", "utf16")
    assert [om.to_tool(i) for i in range(4)] == [0, 1, 3, 4]
    assert om.to_cp(3) == 2
    with pytest.raises(OffsetError, match="surrogate"):
        om.to_cp(2)
    assert utf16_prefix("") == [0]


def test_wrong_declared_convention_is_detected() -> None:
    tasks = export_labelstudio(DOC, toy_records(), unit="document", offset_unit="codepoint", as_annotations=True)
    tasks[0]["data"]["offset_unit"] = "utf16"  # the file lies about its convention
    with pytest.raises(AnnotationImportError, match="--offsets codepoint"):
        import_tasks(tasks, {"toy": DOC})
    # The override fixes it.
    assert import_tasks(tasks, {"toy": DOC}, offset_unit="codepoint").records["toy"]


def test_predictions_carry_scores_and_are_not_gold_by_default() -> None:
    recs = toy_records()
    recs[1].targets[0].extra["score"] = 0.42
    recs[1].extra["category_score"] = 0.9
    tasks = export_labelstudio(DOC, recs, unit="paragraph", model_version="rules-1")
    pred = tasks[1]["predictions"][0]
    assert pred["model_version"] == "rules-1" and pred["score"] == 0.42
    assert any(r.get("score") == 0.42 for r in pred["result"])
    with pytest.raises(AnnotationImportError, match="no submitted annotation"):
        import_tasks(tasks, {"toy": DOC})
    got = import_tasks(tasks, {"toy": DOC}, use_predictions=True).records["toy"]
    recs[1].targets[0].extra.clear()
    recs[1].extra.clear()  # scores are prediction extras, not gold fields
    assert [r.to_json() for r in got] == [r.to_json() for r in recs]


def test_config_lists_every_category_and_control() -> None:
    xml = labelstudio_config()
    for c in CATEGORIES:
        assert f'<Choice value="{c}"/>' in xml
    for name in ("category", "bound", "direction", "value", "value_max", "unit"):
        assert f'name="{name}"' in xml
    import xml.etree.ElementTree as ET

    ET.fromstring(xml)  # well-formed


def _annotated() -> list[dict]:
    return export_labelstudio(DOC, toy_records(), unit="paragraph", as_annotations=True)


def _regions(task: dict, rid_prefix: str) -> list[dict]:
    return [r for r in task["annotations"][0]["result"] if r["id"].startswith(rid_prefix)]


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (
            lambda ts: [
                r["value"].update(choices=["财政"]) for r in _regions(ts[1], "t") if r["from_name"] == "category"
            ],
            "unknown category",
        ),
        (
            lambda ts: [r["value"].update(choices=["more"]) for r in _regions(ts[1], "t") if r["from_name"] == "bound"],
            "unknown bound",
        ),
        (
            lambda ts: [r["value"].update(number="五") for r in _regions(ts[1], "t") if r["from_name"] == "value"],
            "value must be a number",
        ),
        (
            lambda ts: ts[1]["annotations"][0]["result"].__setitem__(
                slice(None), [r for r in ts[1]["annotations"][0]["result"] if r["from_name"] != "value"]
            ),
            "no value",
        ),
        (
            lambda ts: ts[1]["annotations"][0]["result"].__setitem__(
                slice(None), [r for r in ts[1]["annotations"][0]["result"] if not r["id"].startswith("s")]
            ),
            "no category",
        ),
        (lambda ts: ts[1]["data"].update(text="改过的文本"), "task text differs"),
        (lambda ts: ts[1]["data"].update(doc_id="other"), "unknown doc_id"),
        (lambda ts: ts[1]["data"].update(sha256="0" * 64), "raw report changed"),
        (lambda ts: ts[1].pop("annotations"), "no submitted annotation"),
    ],
)
def test_bad_file_rejected_with_task_id(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    tasks = _annotated()
    mutate(tasks)
    with pytest.raises(AnnotationImportError) as ei:
        import_tasks(tasks, {"toy": DOC})
    assert any(tid == "2" and reason in msg for tid, msg in ei.value.problems), ei.value.problems


def test_overlapping_and_crossing_targets_rejected() -> None:
    tasks = _annotated()
    res = tasks[1]["annotations"][0]["result"]
    extra = copy.deepcopy([r for r in res if r["id"] == "t1_0"])
    for r in extra:
        r["id"] = "new"
        r["value"]["start"] += 2
        r["value"]["text"] = None
    res.extend(extra)
    with pytest.raises(AnnotationImportError, match="overlap"):
        import_tasks(tasks, {"toy": DOC})
    tasks = _annotated()
    para = tasks[1]["data"]["text"]
    # A target running over the sentence end at "；".
    a = para.index("左右") + 1
    tasks[1]["annotations"][0]["result"] += [
        {
            "id": "x",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {"start": a, "end": a + 5, "labels": ["TARGET"]},
        },
        {"id": "x", "from_name": "value", "to_name": "text", "type": "number", "value": {"number": 1}},
    ]
    with pytest.raises(AnnotationImportError, match="inside one sentence"):
        import_tasks(tasks, {"toy": DOC})


def test_simulated_correction_is_imported() -> None:
    tasks = _annotated()
    res = tasks[1]["annotations"][0]["result"]
    ids = {r["value"]["text"]: r["id"] for r in res if r["type"] == "labels"}
    # Correct a value and a sentence category, and drop a target.
    for r in res:
        if r["id"] == ids["城镇新增就业4.6万人"] and r["from_name"] == "value":
            r["value"]["number"] = 4.7
        if r["id"] == ids["城镇新增就业4.6万人。"] and r["from_name"] == "category":
            r["value"]["choices"] = ["民生"]
    res[:] = [r for r in res if r["id"] != ids["地区生产总值增长5%左右"]]
    got = import_tasks(tasks, {"toy": DOC}).records["toy"]
    gdp = next(r for r in got if "生产总值" in r.text)
    jobs = next(r for r in got if "就业" in r.text)
    assert gdp.targets == []
    assert jobs.category == "民生"
    assert [(t.text, t.value) for t in jobs.targets] == [("城镇新增就业4.6万人", 4.7)]


def test_load_tasks_reads_both_formats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "t.json"
    p.write_text(dumps_tasks(_annotated(), "labelstudio"), encoding="utf-8")
    assert len(load_tasks(p, "labelstudio")) == 3
    q = tmp_path / "t.jsonl"
    q.write_text(dumps_tasks(export_doccano(DOC, toy_records()), "doccano"), encoding="utf-8")
    assert len(load_tasks(q, "doccano")) == 3
    q.write_text("{broken\n", encoding="utf-8")
    with pytest.raises(AnnotationImportError, match="malformed"):
        load_tasks(q, "doccano")


# ----------------------------------------------------------------------------- property: identity

_CHARS = "政府工作报告增长亿元万人家个新增𠮷😀𝟘ＡＢ12345.%—、，：" + "abc "


@st.composite
def docs_with_records(draw: st.DrawFn) -> tuple[DocSource, list[SentenceRecord]]:
    n_par = draw(st.integers(1, 4))
    paras = []
    for _ in range(n_par):
        n_sent = draw(st.integers(1, 3))
        sents = [
            draw(st.text(alphabet=_CHARS, min_size=1, max_size=18)) + draw(st.sampled_from("。；！"))
            for _ in range(n_sent)
        ]
        paras.append("".join(sents))
    nl = draw(st.sampled_from(["\n", "\r\n", "\r\n\r\n"]))
    text = nl.join(paras) + draw(st.sampled_from(["", nl]))
    seg = segment(text)
    recs = []
    for s in seg.sentences:
        targets = []
        pos = s.start
        for _ in range(draw(st.integers(0, 2))):
            if pos >= s.end - 1:
                break
            a = draw(st.integers(pos, s.end - 1))
            b = draw(st.integers(a + 1, s.end))
            vmax = draw(st.one_of(st.none(), st.integers(1000, 2000)))
            targets.append(
                Target(
                    start=a,
                    end=b,
                    text=text[a:b],
                    category=draw(st.sampled_from(CATEGORIES)),
                    value=draw(st.one_of(st.integers(0, 999), st.sampled_from([4.6, 0.5, 12.25]))),
                    unit=draw(st.sampled_from([None, "亿元", "%", "万平方米"])),
                    bound="at_least" if vmax is not None else draw(st.sampled_from(BOUNDS)),
                    direction=draw(st.sampled_from(["up", "down", None])),
                    value_max=vmax,
                )
            )
            pos = b
        recs.append(
            SentenceRecord("doc", s.sent_id, s.start, s.end, s.text, draw(st.sampled_from(CATEGORIES)), targets)
        )
    return DocSource("doc", text, "doc.txt", "f00"), recs


@given(
    docs_with_records(),
    st.sampled_from(["labelstudio", "doccano"]),
    st.sampled_from(["sentence", "paragraph", "document"]),
    st.sampled_from(["utf16", "codepoint"]),
)
def test_export_import_is_identity(dr: tuple[DocSource, list[SentenceRecord]], fmt: str, unit: str, ou: str) -> None:
    doc, recs = dr
    got = _roundtrip(fmt, doc, recs, unit, ou)
    assert [r.to_json() for r in got] == [r.to_json() for r in recs]
    for r in got:
        assert doc.text[r.start : r.end] == r.text
        for t in r.targets:
            assert doc.text[t.start : t.end] == t.text


# ----------------------------------------------------------------------------- CLI and gold files

ROOT = Path(__file__).resolve().parent.parent
SEED_GOLD = ROOT / "data" / "gold" / "yuzhong-2024.jsonl"
SEED_RAW = ROOT / "data" / "raw" / "yuzhong-2024.txt"


def _gold_core(path: Path) -> list[dict]:
    keep = ("start", "end", "category", "value", "unit", "bound", "direction", "value_max")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r.get("standoff"):
            continue
        out.append(
            {
                "span": (r["start"], r["end"]),
                "category": r["category"],
                "targets": [{k: t.get(k) for k in keep} for t in r["targets"]],
            }
        )
    return out


@pytest.mark.skipif(not SEED_GOLD.exists(), reason="seed gold absent")
@pytest.mark.parametrize("fmt", ["labelstudio", "doccano"])
def test_seed_gold_survives_cli_roundtrip(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("t.json" if fmt == "labelstudio" else "t.jsonl")
    assert main(["export", str(SEED_RAW), "--gold", str(SEED_GOLD), "--format", fmt, "--out", str(out)]) == 0
    gold = tmp_path / "data" / "gold" / "yuzhong-2024.jsonl"
    assert main(["import", str(out), "--format", fmt, "--raw", str(SEED_RAW), "--out", str(gold)]) == 0
    assert _gold_core(gold) == _gold_core(SEED_GOLD)
    # the raw copy lies inside the chosen folder (issue 13), where the loader looks first
    assert (tmp_path / "data" / "gold" / "raw" / "yuzhong-2024.txt").read_bytes() == SEED_RAW.read_bytes()
    assert not (tmp_path / "data" / "raw").exists()
    assert load_gold_file(gold).doc_id == "yuzhong-2024"


def _write_toy(tmp_path: Path) -> Path:
    raw = tmp_path / "toy.txt"
    raw.write_bytes(TOY.encode("utf-8"))
    return raw


def test_cli_rejects_bad_file_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = _write_toy(tmp_path)
    doc = DocSource.from_path(raw)
    tasks = export_labelstudio(doc, toy_records(), as_annotations=True)
    for r in tasks[2]["annotations"][0]["result"]:
        if r["from_name"] == "bound":
            r["value"]["choices"] = ["roughly"]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    gold = tmp_path / "data" / "gold" / "toy.jsonl"
    assert main(["import", str(f), "--raw", str(raw), "--out", str(gold)]) == 1
    err = capsys.readouterr().err
    assert "task 3:" in err and "unknown bound 'roughly'" in err and "nothing imported" in err
    assert not gold.exists() and not (tmp_path / "data" / "raw").exists()


def test_cli_merge_standoff_and_raw_conflict(tmp_path: Path) -> None:
    raw = _write_toy(tmp_path)
    doc = DocSource.from_path(raw)
    recs = toy_records()
    # First round: only the paragraph with the jobs target.
    f1 = tmp_path / "r1.json"
    f1.write_text(json.dumps(export_labelstudio(doc, recs, as_annotations=True, only={1}), ensure_ascii=False))
    standoff = tmp_path / "gold" / "standoff"
    assert main(["import", str(f1), "--raw", str(tmp_path), "--out", str(standoff), "--standoff"]) == 0
    lines = (standoff / "toy.jsonl").read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["standoff"] and head["source"] == "toy.txt" and head["sha256"] == doc.sha256
    assert all("text" not in json.loads(x) for x in lines[1:])
    assert len(lines) == 1 + 2
    # Second round, another paragraph: merged, the first round kept.
    f2 = tmp_path / "r2.json"
    f2.write_text(json.dumps(export_labelstudio(doc, recs, as_annotations=True, only={3}), ensure_ascii=False))
    assert main(["import", str(f2), "--raw", str(tmp_path), "--out", str(standoff), "--standoff"]) == 0
    loaded = load_gold_file(standoff / "toy.jsonl", corpus_dir=tmp_path)
    assert [s.sent_id for s in loaded.sentences] == [1, 2, 3]
    assert [t.to_json() for s in loaded.sentences for t in s.targets] == [
        t.to_json() for r in recs if r.sent_id in (1, 2, 3) for t in r.targets
    ]
    # Inline gold whose data/raw copy differs: refused, nothing written.
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "toy.txt").write_text("something else", encoding="utf-8")
    gold = tmp_path / "data" / "gold" / "toy.jsonl"
    assert main(["import", str(f2), "--raw", str(raw), "--out", str(gold)]) == 1
    assert not gold.exists()


def test_doccano_new_span_gets_parsed_fields(tmp_path: Path) -> None:
    recs = toy_records()
    lines = export_doccano(DOC, recs, unit="document", offset_unit="utf16")
    # The annotator shortens a span in doccano: its stored fields no longer apply.
    lab = next(x for x in lines[0]["label"] if x[2] == "TARGET|民生")
    lab[0] += 2  # "新增就业4.6万人"
    res = import_tasks(lines, {"toy": DOC}, "doccano")
    t = next(t for r in res.records["toy"] for t in r.targets if t.category == "民生")
    assert t.text == "新增就业4.6万人" and t.value == 4.6 and t.unit == "万人"
    assert t.extra == {"fields_source": "parser"}
    assert any("fields filled by the parser" in n for n in res.notes)


def test_doccano_entities_form_and_foreign_ls_items() -> None:
    lines = export_doccano(DOC, toy_records(), unit="paragraph")
    for line in lines:  # doccano's newer export: entities objects instead of label triples
        line["entities"] = [
            {"id": i, "start_offset": a, "end_offset": b, "label": lab}
            for i, (a, b, lab) in enumerate(line.pop("label"))
        ]
    got = import_tasks(lines, {"toy": DOC}, "doccano").records["toy"]
    assert [r.to_json() for r in got] == [r.to_json() for r in toy_records()]
    tasks = _annotated()
    tasks[1]["annotations"][0]["result"].append({"type": "relation", "from_id": "s1", "to_id": "s2"})
    assert import_tasks(tasks, {"toy": DOC}).records["toy"]


@pytest.mark.parametrize("fmt", ["labelstudio", "doccano"])
def test_partial_gold_reexport_covers_only_its_sentences(fmt: str) -> None:
    recs = [r for r in toy_records() if r.sent_id in (2, 3)]  # sentence 1 shares a paragraph with 2
    got = _roundtrip(fmt, DOC, recs, "paragraph", "utf16")
    assert [r.to_json() for r in got] == [r.to_json() for r in recs]


STANDOFF = sorted((ROOT / "data" / "gold" / "standoff").glob("*.jsonl"))


@pytest.mark.corpus
@pytest.mark.parametrize("gold_file", STANDOFF, ids=[p.stem for p in STANDOFF])
def test_standoff_gold_survives_cli_roundtrip(tmp_path: Path, gold_file: Path) -> None:
    from conftest import CORPUS, CORPUS2

    found = [c for c in (CORPUS, CORPUS2) if (c / f"{gold_file.stem}.txt").exists()]
    if not found:
        pytest.skip(f"{gold_file.stem}.txt is in neither ../shared/corpus nor ../shared/corpus2 (absent)")
    src = found[0] / f"{gold_file.stem}.txt"
    out = tmp_path / "t.json"
    assert main(["export", str(src), "--gold", str(gold_file), "--out", str(out)]) == 0
    assert main(["import", str(out), "--raw", str(found[0]), "--standoff", "--out", str(tmp_path / "s")]) == 0
    assert _gold_core(tmp_path / "s" / gold_file.name) == _gold_core(gold_file)
