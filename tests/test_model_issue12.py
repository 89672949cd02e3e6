"""Issue 12, model side: clause snapping of decoded spans, document folds, target-category
accuracy, pretraining on several corpora, and the compare / curve commands in miniature."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, CORPUS2
from helpers import TINY_TRAIN
from hypothesis import given
from hypothesis import strategies as st
from test_evaluate import _gold_dir
from test_training import LINES, _doc

from pipeline.fields.clauses import NUMERAL as _NUMERAL
from pipeline.fields.clauses import clause_boundaries, snap_to_clauses
from pipeline.model.encoding import B, I, O, decode, encode
from pipeline.model.vocab import build_vocab, load_tokenizer, save_vocab
from pipeline.records import GoldDocument, SentenceRecord, Target

TINY = {**TINY_TRAIN, "num_threads": 1, "epochs": 2, "patience": 1}


def _texts(sentence: str, spans: list[tuple[int, int]]) -> list[str]:
    return [sentence[s:e] for s, e in spans]


# --------------------------------------------------------------------------- snapping


@pytest.mark.parametrize(
    ("sentence", "cut", "whole"),
    [
        ("全年，新增100个示范村。", "增100个示范村", "新增100个示范村"),
        (
            "单位国内生产总值能耗下降3%左右，主要污染物排放量继续下降。",
            "位国内生产总值能耗下降3%左右",
            "单位国内生产总值能耗下降3%左右",
        ),
        ("扎实推进乡村全面振兴，和美乡村示范村创建20个。", "美乡村示范村创建20个", "和美乡村示范村创建20个"),
        ("建设一批和美乡村10个。", "美乡村10个", "建设一批和美乡村10个"),
        ("进出口总额稳中提质，出口增长5%左右。", "口增长5%左右", "出口增长5%左右"),
        ("二是力争新建城市公园5个，", "力争新建城市公园5", "新建城市公园5个"),
    ],
)
def test_snapping_never_cuts_a_word(sentence: str, cut: str, whole: str) -> None:
    s = sentence.index(cut)
    assert _texts(sentence, snap_to_clauses(sentence, [(s, s + len(cut))])) == [whole]


def test_snapping_splits_at_coordinators_only_between_figures() -> None:
    t = "新建幼儿园10所和托育机构5所。"
    # The model's boundary one character off on either side of 和: two whole targets.
    assert _texts(t, snap_to_clauses(t, [(0, 9), (10, 15)])) == ["新建幼儿园10所", "托育机构5所"]
    t = "推进5个国家区域医疗中心和6个省级区域医疗中心高效运行"
    assert _texts(t, snap_to_clauses(t, [(0, 4), (4, len(t))])) == [
        "推进5个国家区域医疗中心",
        "6个省级区域医疗中心高效运行",
    ]
    # No figure before 和 (one target under v1.5): no span may start after it.
    t = "本外币存款余额和保费收入增长12%左右。"
    assert _texts(t, snap_to_clauses(t, [(8, 19)])) == ["本外币存款余额和保费收入增长12%左右"]
    # A coordinator character inside a word is no coordinator.
    t = "组织1000人参与培训。"
    assert _texts(t, snap_to_clauses(t, [(0, 8)])) == ["组织1000人参与培训"]


def test_snapping_drops_numberless_spans_and_trailing_punctuation() -> None:
    t = "深化改革，新增就业3万人。"
    assert snap_to_clauses(t, [(0, 4)]) == []  # 深化改革: no numeral anywhere it could go
    assert _texts(t, snap_to_clauses(t, [(5, 13)])) == ["新增就业3万人"]  # 。 never inside


def test_decode_snaps_when_asked(tmp_path: Path) -> None:
    """The decoder (every model prediction goes through it with snap=True) repairs a span that
    the tags cut inside a word."""
    t = "全年，新增100个示范村。"
    save_vocab(build_vocab([t]), tmp_path)
    tok = load_tokenizer(tmp_path)
    enc = encode(tok, t, "", max_length=48, stride=8)
    tags = []
    for off in enc.windows[0].offsets:
        if off is None:
            tags.append(O)
        else:
            tags.append(B if off[0] == 4 else I if 4 < off[0] < 12 else O)  # 增100个示范村
    eye = np.eye(3) * 10.0
    logits = [np.stack([eye[x] for x in tags])]
    assert [t[d.start : d.end] for d in decode(enc, logits)] == ["增100个示范村"]
    assert [t[d.start : d.end] for d in decode(enc, logits, snap=True)] == ["新增100个示范村"]


_ALPHABET = list("新增建设和及与以个万亿元所家年度区县国内生产总值单位出口增长改造、，。；：！？“”（） ") + [
    "力争",
    "确保",
    "争取实现",
    "一是",
    "（1）",
    "①",
    "以及",
    "参与",
    "和美",
    "10",
    "5%",
    "3.5",
    "左右",
    "以上",
]


@given(
    pieces=st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=30),
    raw_spans=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=5),
)
def test_snapped_spans_sit_on_clause_boundaries(pieces: list[str], raw_spans: list[tuple[int, int]]) -> None:
    sentence = "".join(pieces)
    n = len(sentence)
    spans = []
    for s, length in raw_spans:
        s = s % n
        spans.append((s, min(n, s + length)))
    spans = [(s, e) for s, e in spans if s < e]
    starts, ends = clause_boundaries(sentence)
    out = snap_to_clauses(sentence, spans)
    for i, (s, e) in enumerate(out):
        assert 0 <= s < e <= n
        assert s in starts and e in ends, (sentence, spans, out)
        assert _NUMERAL.search(sentence[s:e])
        assert sentence[e - 1] not in "，,；;。：:！？!?、 "  # no trailing punctuation
        if i:
            assert out[i - 1][1] <= s  # sorted, never overlapping
    assert snap_to_clauses(sentence, out) == out  # snapping twice changes nothing


@pytest.mark.corpus
def test_every_gold_train_target_is_a_fixed_point_of_snapping() -> None:
    """The snapping can never turn a correct prediction wrong: every gold TRAIN target already
    starts and ends where snapping allows (1,126 targets at the time of writing)."""
    if not (CORPUS.is_dir() and CORPUS2.is_dir()):
        pytest.skip("../shared/corpus or corpus2 is absent")
    from pipeline.annotation.gold import load_gold_dir

    docs, _ = load_gold_dir(Path(__file__).resolve().parent.parent / "data" / "gold", split="train")
    n = 0
    for d in docs:
        for s in d.sentences:
            spans = sorted((t.start - s.start, t.end - s.start) for t in s.targets)
            if spans:
                n += len(spans)
                assert snap_to_clauses(s.text, spans) == spans, (d.doc_id, s.text)
    assert n > 1000


# --------------------------------------------------------------------------- scoring, folds


def test_target_category_accuracy_counts_only_strict_matches() -> None:
    from pipeline.evaluation.scoring import score, target_category_accuracy

    assert target_category_accuracy(0, 0) == 0.0
    assert target_category_accuracy(4, 3) == 0.75
    raw = "新增就业3万人，新建公园5个，改造小区8个。"
    a, b, c = (raw.index(x) for x in ("新增就业3万人", "新建公园5个", "改造小区8个"))
    gold = GoldDocument(
        "d",
        raw,
        [
            SentenceRecord(
                "d",
                0,
                0,
                len(raw),
                raw,
                "民生",
                [
                    Target(a, a + 7, "新增就业3万人", "民生"),
                    Target(b, b + 6, "新建公园5个", "城建"),
                    Target(c, c + 6, "改造小区8个", "城建"),
                ],
            )
        ],
    )
    pred = {
        "d": [
            SentenceRecord(
                "d",
                0,
                0,
                len(raw),
                raw,
                "民生",
                [
                    Target(a, a + 7, "新增就业3万人", "民生"),  # right span, right category
                    Target(b, b + 6, "新建公园5个", "民生"),  # right span, wrong category
                    Target(c + 2, c + 6, "小区8个", "城建"),  # wrong span: not counted either way
                ],
            )
        ]
    }
    m = score([gold], pred, n_resamples=20)
    assert m["targets_category_acc"] == 0.5
    assert "targets_category_acc_ci" in m


def test_document_folds_hold_whole_documents() -> None:
    from pipeline.training.cv import make_folds

    docs = [_doc(f"d{i}") for i in range(5)]
    folds = make_folds(docs, k=2, seed=1, by="document-folds")
    assert len(folds) == 2
    tested = [d.doc_id for f in folds for d in f.test]
    assert sorted(tested) == [f"d{i}" for i in range(5)]
    for f in folds:
        assert not {d.doc_id for d in f.train} & {d.doc_id for d in f.test}
        assert all(len(d.sentences) == len(LINES) for d in f.test)  # whole documents
    assert len(make_folds(docs, k=9, by="document-folds")) == 5  # k ≥ documents: leave one out


def test_nested_subsets_contain_each_other() -> None:
    from pipeline.training.compare import nested_subsets

    subs = nested_subsets([f"n{i}" for i in range(10)], [0, 2, 4, 8, "all"], seed=3)
    assert [k for k, _ in subs] == [0, 2, 4, 8, 10]
    for (_, small), (_, big) in zip(subs, subs[1:]):
        assert big[: len(small)] == small
    assert subs == nested_subsets([f"n{i}" for i in reversed(range(10))], [0, 2, 4, 8, "all"], seed=3)
    with pytest.raises(ValueError, match="new TRAIN documents"):
        nested_subsets(["a"], [2])


def test_bert_alone_uses_no_rules_and_hybrid_learns_its_category() -> None:
    from pipeline.cli.train import RECIPE
    from pipeline.training.compare import system_configs

    cfg = system_configs(RECIPE, overrides={"rule_features": True, "target_category_source": "rule", "epochs": 3})
    bert, hybrid = cfg["bert"], cfg["hybrid"]
    assert not bert.rule_features and bert.rule_prior == 0 and bert.rule_category_weight == 0
    assert bert.disagreement_weight == 1.0 and not bert.select_decoding
    assert hybrid.rule_features and hybrid.select_decoding
    assert bert.target_category_source == hybrid.target_category_source == "auto"  # never "rule"
    assert bert.epochs == hybrid.epochs == 3


# --------------------------------------------------------------------------- pretraining corpora


def test_pretraining_reads_every_format_of_several_corpora_once(tmp_path: Path) -> None:
    import docx

    from pipeline.training.pretrain import CorpusStats, corpus_sentences

    text = "二、今年工作安排\n" + "\n".join(t for t, _, _ in LINES)
    a, b = tmp_path / "a", tmp_path / "b"
    (b / "docx").mkdir(parents=True)
    a.mkdir()
    (a / "r1.txt").write_text(text, encoding="utf-8")
    (a / "README.md").write_text("# not a report", encoding="utf-8")
    (b / "same.txt").write_text(text + "\n", encoding="utf-8")  # identical text: read once
    (b / "test.txt").write_text("三、测试报告\n新增学校3所。", encoding="utf-8")
    d = docx.Document()
    for line in ["2025年政府工作报告", "城镇新增就业5万人。", "建设5G基站300个。"]:
        d.add_paragraph(line)
    d.save(str(b / "docx" / "r2.docx"))
    stats = CorpusStats(corpora=[str(a), str(b)])
    docs = corpus_sentences([a, b], exclude=[b / "test.txt"], stats=stats)
    assert len(docs) == 2 and stats.documents == 2
    assert stats.duplicates == [str(b / "same.txt")] and stats.excluded == [str(b / "test.txt")]
    assert stats.formats.get("docx") == 1
    assert any("建设5G基站300个。" in s for s in docs[1])


@pytest.mark.slow
def test_pretrain_cli_takes_two_corpora(tmp_path: Path) -> None:
    from pipeline.cli import train

    a, b = tmp_path / "a", tmp_path / "b"
    for i, folder in enumerate((a, b)):
        folder.mkdir()
        (folder / f"r{i}.txt").write_text(
            "二、今年工作安排\n" + "\n".join(t for t, _, _ in LINES[i:]) * 3, encoding="utf-8"
        )
    out = tmp_path / "mlm"
    argv = [
        "pretrain",
        "--corpus",
        str(a),
        "--corpus",
        str(b),
        "--out",
        str(out),
        "--max-steps",
        "2",
        "--batch-size",
        "2",
        "--gold",
        str(tmp_path / "nogold"),
    ]
    assert train.main(argv) == 0
    log = json.loads((out / "mlm_log.json").read_text(encoding="utf-8"))
    assert log["corpus"]["corpora"] == [str(a), str(b)] and log["steps"] == 2
    assert log["corpus"]["documents"] >= 2  # both corpora read (+ the seed report where present)


# --------------------------------------------------------------------------- compare and curve


def _tiny_gold(tmp_path: Path) -> tuple[Path, Path]:
    """A gold folder of four documents, two of them "new" (their source in a corpus2 folder) and
    one of those the TEST split."""
    corpus2 = tmp_path / "corpus2"
    corpus2.mkdir()
    docs = [_doc("base-a"), _doc("base-b"), _doc("new-a"), _doc("new-b"), _doc("new-test")]
    gold = _gold_dir(tmp_path, docs)
    for d in docs:
        if d.doc_id.startswith("new"):
            (corpus2 / f"{d.doc_id}.txt").write_text(d.raw, encoding="utf-8")
    (gold / "splits.json").write_text(json.dumps({"test": ["new-test"]}), encoding="utf-8")
    return gold, corpus2


@pytest.fixture
def new_docs_in_corpus2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed-format gold has no standoff source: the tiny "new" documents are named by prefix."""
    from pipeline.training import compare

    monkeypatch.setattr(compare, "is_new_document", lambda d, corpus2: d.doc_id.startswith("new"))


@pytest.mark.slow
def test_compare_cli_writes_three_systems_side_by_side(tmp_path: Path) -> None:
    from pipeline.cli import train

    gold, _ = _tiny_gold(tmp_path)
    out = tmp_path / "reports" / "compare-1"
    argv = [
        "compare",
        "--gold",
        str(gold),
        "--folds",
        "2",
        "--test",
        "--out",
        str(out),
        "--bootstrap",
        "20",
        "--epochs",
        "2",
        "--patience",
        "1",
        "--num-threads",
        "1",
    ]
    argv += [f"--set={k}={v}" for k, v in TINY.items() if k not in ("epochs", "patience", "num_threads")]
    assert train.main(argv) == 0
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(m["cv"]) == set(m["test"]) == {"rules", "bert", "hybrid"}
    assert m["meta"]["test_documents"] == ["new-test"]
    assert "new-test" not in m["meta"]["train_documents"]  # the TEST split never in CV
    for system in ("bert", "hybrid"):
        cv = m["cv"][system]
        assert len(cv["fits"]) == 2 and all(f["target_category_source"] in ("span", "sentence") for f in cv["fits"])
        assert set(cv["per_document"]) == {"base-a", "base-b", "new-a", "new-b"}
        for part in (cv, m["test"][system]):
            assert {"targets_strict_f", "targets_typed_f", "targets_category_acc", "sentcat_accuracy"} <= set(part)
            assert "ci" in part["minus_rules"]["targets_strict_f"]
        assert m["test"][system]["targets_strict_f_ci"]
    assert m["meta"]["configs"]["bert"]["rule_features"] is False
    assert m["meta"]["configs"]["hybrid"]["hidden_size"] == 32
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "TEST split" in md and "| hybrid |" in md and "target-category acc." in md
    assert (out / "predictions" / "cv" / "bert" / "new-a.jsonl").exists()
    assert (out / "predictions" / "test" / "rules" / "new-test.jsonl").exists()


@pytest.mark.slow
def test_curve_cli_writes_json_plot_and_table(tmp_path: Path, new_docs_in_corpus2: None) -> None:
    from pipeline.cli import train

    gold, corpus2 = _tiny_gold(tmp_path)
    out = tmp_path / "reports" / "curve-1"
    argv = [
        "curve",
        "--gold",
        str(gold),
        "--corpus2",
        str(corpus2),
        "--sizes",
        "0,1,all",
        "--out",
        str(out),
        "--bootstrap",
        "20",
        "--max-sentences",
        "40",
        "--epochs",
        "2",
    ]
    argv += [f"--set={k}={v}" for k, v in TINY.items() if k != "epochs"]
    assert train.main(argv) == 0
    c = json.loads((out / "curve.json").read_text(encoding="utf-8"))
    assert [p["k"] for p in c["points"]] == [0, 1, 2]
    assert c["meta"]["base_documents"] == ["base-a", "base-b"] and c["meta"]["test_documents"] == ["new-test"]
    assert c["points"][1]["new_documents"] == c["points"][2]["new_documents"][:1]  # nested
    assert c["meta"]["max_sentences"] == 40 and c["meta"]["overrides"]["epochs"] == 2
    assert all(p["fit"]["train_sentences"] <= 40 for p in c["points"])
    assert {"targets_strict_f", "targets_category_acc", "sentcat_accuracy"} <= set(c["rules"])
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "curve.md").read_text(encoding="utf-8")
    assert re.search(r"\| hybrid \| 2 \|", md) and "| rules |" in md


def test_sentence_cap_keeps_every_target_sentence() -> None:
    from pipeline.training.compare import cap_sentences

    docs = [_doc("a"), _doc("b")]
    n_target = sum(1 for d in docs for s in d.sentences if s.targets)
    capped = cap_sentences(docs, n_target + 1, seed=0)
    kept = [s for d in capped for s in d.sentences]
    assert len(kept) == n_target + 1 and sum(1 for s in kept if s.targets) == n_target
    assert all(d.raw == docs[0].raw for d in capped)
    assert cap_sentences(docs, None) == docs


@pytest.mark.slow
def test_pretraining_a_corpus_smaller_than_one_batch_ends(tmp_path: Path) -> None:
    """Two identical reports are read once: the one document left holds fewer sequences than a
    batch, which used to make the batch generator loop forever."""
    from pipeline.training.pretrain import PretrainConfig, pretrain

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(2):
        (corpus / f"r{i}.txt").write_text("\n".join(t for t, _, _ in LINES), encoding="utf-8")
    cfg = PretrainConfig(
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        intermediate_size=64,
        max_length=32,
        batch_size=64,
        max_steps=2,
        log_every=1,
    )
    res = pretrain(corpus, tmp_path / "mlm", cfg)
    assert res["steps"] == 2 and res["corpus"]["duplicates"] == [str(corpus / "r1.txt")]
