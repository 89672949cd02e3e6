"""Active selection: uncertainty components, near-duplicate skipping, gold skipping, task export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.annotation.annotation_io import DocSource, import_tasks
from pipeline.annotation.select import (
    ShingleIndex,
    combine,
    has_quantity,
    jaccard,
    pick,
    select,
    sentence_components,
    shingles,
    token_entropies,
)
from pipeline.model.encoding import EncodedSentence, Window
from pipeline.predict import SentenceInput, SentencePrediction, SpanPrediction
from pipeline.records import SentenceRecord, Target
from pipeline.schema import CATEGORIES
from pipeline.tagging.tagger import Tagger


class FakePredictor:
    """Confident on everything except sentences holding 拿不准 (category tie) or 含糊 (weak span)."""

    name = "fake"

    def predict(self, sentences: list[SentenceInput]) -> list[SentencePrediction]:
        out = []
        for s in sentences:
            probs = {c: 0.0 for c in CATEGORIES}
            if "拿不准" in s.text:
                probs["金融"], probs["商贸"] = 0.5, 0.5
            else:
                probs["综合"] = 1.0
            cat = max(probs, key=lambda c: probs[c])
            spans = []
            i = s.text.find("新增")
            if i >= 0:
                j = i
                while j < len(s.text) and s.text[j] not in "，。；":
                    j += 1
                spans.append(SpanPrediction(i, j, score=0.55 if "含糊" in s.text else 0.99))
            out.append(SentencePrediction(cat, probs, spans))
        return out


def _rec(text: str, probs: dict[str, float], scores: list[float], part: str = "plan") -> SentenceRecord:
    ts = [Target(0, 1, text[:1], "综合", 1, extra={"score": s}) for s in scores]
    return SentenceRecord(
        "d",
        0,
        0,
        len(text),
        text,
        max(probs, key=lambda c: probs[c]),
        ts,
        extra={"category_probs": probs, "part": part},
    )


def test_components() -> None:
    c = sentence_components(_rec("新增5家。", {"金融": 0.5, "商贸": 0.5}, [0.6]), None)
    assert c == {"category": 1.0, "span": pytest.approx(0.4), "number_gap": 0.0}
    c = sentence_components(_rec("新增5家。", {"综合": 1.0}, []), 0.25)
    assert c == {"category": 0.0, "span": 0.0, "token": 0.25, "number_gap": 1.0}
    # A review sentence with a number is not a missed target (GUIDELINES 2.1).
    assert sentence_components(_rec("新增5家。", {"综合": 1.0}, [], part="review"), None)["number_gap"] == 0.0
    assert combine({"category": 1.0, "span": 0.0}) == 0.5
    assert combine({"category": 1.0, "number_gap": 0.0}) == pytest.approx(1 / 1.5)


@pytest.mark.parametrize(
    "text, expect",
    [
        ("新建5G基站300个。", True),
        ("动态清零信访积案。", True),
        ("建设三个产业园。", True),
        ("增长5%。", True),
        ("3、坚持改革开放", False),
        ("全面落实十六大精神。", False),
        ("2024年是关键一年。", False),
        ("打造“五张消费名片”。", False),
        ("进一步加强管理。", False),
    ],
)
def test_has_quantity(text: str, expect: bool) -> None:
    assert has_quantity(text) is expect


def test_shingles_map_numbers() -> None:
    a = shingles("城镇新增就业4.6万人。")
    b = shingles("城镇新增就业5万人。")
    assert a == b  # same sentence, next year's figure: a near-duplicate
    assert jaccard(a, shingles("完成固定资产投资220亿元。")) < 0.2


@given(
    st.lists(st.text(alphabet="增长亿元万人新增123", min_size=0, max_size=12), max_size=8),
    st.text(alphabet="增长亿元万人新增123", max_size=12),
    st.sampled_from([0.3, 0.7, 1.0]),
)
def test_index_agrees_with_brute_force(stored: list[str], query: str, thr: float) -> None:
    idx = ShingleIndex(thr)
    for s in stored:
        idx.add(s)
    q = shingles(query)
    expect = bool(q) and any(jaccard(q, shingles(s)) >= thr for s in stored)
    assert idx.near(query) == expect


DOC_A = (
    "2025年政府工作报告\n今年主要目标是：新增市场主体含糊500家。\n拿不准的一句话，新增金融机构5家。\n加强生态保护。\n"
)
DOC_B = (
    "今年主要目标是：新增市场主体含糊600家。\n"  # near-duplicate of DOC_A's (numbers differ)
    "完成固定资产投资220亿元。\n"
    "拿不准的另一句话很长很长很长。\n"
)
DOC_GOLD = "已有标注的报告，新增就业5万人。\n"


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "a.txt").write_text(DOC_A, encoding="utf-8")
    (c / "b.txt").write_text(DOC_B, encoding="utf-8")
    (c / "g.txt").write_text(DOC_GOLD, encoding="utf-8")
    gold = tmp_path / "data" / "gold"
    gold.mkdir(parents=True)
    raw = tmp_path / "data" / "raw"
    raw.mkdir()
    (raw / "g.txt").write_text(DOC_GOLD, encoding="utf-8")
    t = DOC_GOLD.strip()
    (gold / "g.jsonl").write_text(
        json.dumps(
            {"doc_id": "g", "sent_id": 0, "start": 0, "end": len(t), "text": t, "category": "民生", "targets": []},
            ensure_ascii=False,
        )
        + "\n"
    )
    return c, gold


def test_select_ranks_skips_and_exports(corpus: tuple[Path, Path]) -> None:
    c, gold = corpus
    sel = select(sorted(c.glob("*.txt")), Tagger(FakePredictor()), n=10, gold_dir=gold, corpus_dir=c)
    assert sel.skipped_docs == ["g"]
    texts = [x.text for x in sel.chosen]
    # Category ties first (0.404: tie + a 0.99 span; 0.4: tie alone), then the number without a
    # target (0.5/2.5), then the weak span (0.45/2.5); the confident sentence last.
    assert texts[:3] == [
        "拿不准的一句话，新增金融机构5家。",
        "拿不准的另一句话很长很长很长。",
        "完成固定资产投资220亿元。",
    ]
    assert texts[3].startswith("今年主要目标是：新增市场主体含糊")  # either copy: ties are a seeded draw
    assert texts[4:] == ["加强生态保护。"]
    # Only one of the two near-duplicate sentences; no title (furniture) ever.
    assert sum("新增市场主体含糊" in t for t in texts) == 1
    assert not any("政府工作报告" in t for t in texts)
    assert all(sel.chosen[i].uncertainty >= sel.chosen[i + 1].uncertainty for i in range(len(sel.chosen) - 1))
    # Tasks are Label Studio tasks with scored predictions, most uncertain first, ids 1..n.
    assert [t["id"] for t in sel.tasks] == list(range(1, len(sel.tasks) + 1))
    assert all("predictions" in t and "uncertainty" in t["data"] for t in sel.tasks)
    docs = {d.doc_id: d for d in (DocSource.from_path(p) for p in c.glob("*.txt"))}
    res = import_tasks(sel.tasks, docs, use_predictions=True)
    n_imported = sum(len(v) for v in res.records.values())
    assert n_imported == len(sel.chosen)


def test_select_skips_gold_sentences_in_other_reports(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    c, gold = corpus
    (c / "h.txt").write_text("已有标注的报告，新增就业5万人。\n全新的句子，新增企业含糊3家。\n", encoding="utf-8")
    sel = select([c / "h.txt"], Tagger(FakePredictor()), n=10, gold_dir=gold, corpus_dir=c)
    assert [x.text for x in sel.chosen] == ["全新的句子，新增企业含糊3家。"]


def test_paragraph_unit_and_max_per_doc(corpus: tuple[Path, Path]) -> None:
    c, gold = corpus
    sel = select(sorted(c.glob("*.txt")), Tagger(FakePredictor()), n=10, unit="paragraph", gold_dir=gold, max_per_doc=1)
    assert len({x.doc_id for x in sel.chosen}) == len(sel.chosen) == 2
    assert all(t["data"]["unit"] == "paragraph" for t in sel.tasks)


def test_pick_respects_n_and_gold() -> None:
    from pipeline.annotation.select import Candidate

    cands = [
        Candidate("d", (i,), 0, 1, t, 1.0 - i / 10)
        for i, t in enumerate(
            ["城镇新增就业4.6万人。", "城镇新增就业5万人。", "完成固定资产投资220亿元。", "加强生态环境保护工作。"]
        )
    ]
    got = pick(cands, 5, gold_texts=["加强生态环境保护工作。"])
    assert [c.sent_ids[0] for c in got] == [0, 2]
    assert len(pick(cands, 1)) == 1


class _Tok:
    pad_token_id = 0


class FakeModelPredictor(FakePredictor):
    """Enough of ModelPredictor for the token-entropy pass: one window per sentence."""

    tokenizer = _Tok()

    def encode_inputs(self, sentences: list[SentenceInput]) -> list[EncodedSentence]:
        out = []
        for s in sentences:
            n = len(s.text)
            out.append(
                EncodedSentence(
                    s.text,
                    [Window([101] + [5] * n + [102], [0] * (n + 2), [None] + [(i, i + 1) for i in range(n)] + [None])],
                )
            )
        return out

    def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
        b, t = input_ids.shape
        logits = np.zeros((b, t, 3 + len(CATEGORIES)), dtype=np.float32)
        logits[..., 0] = 20.0  # confident "O" everywhere ...
        logits[0, 1, :3] = 0.0  # ... except the first real token of the first (shortest) window: uniform
        logits[:, 0, :3] = 0.0  # special tokens are uniform too, and must be ignored
        return logits, np.zeros((b, len(CATEGORIES)), dtype=np.float32)


def test_token_entropy_ignores_special_tokens() -> None:
    tagger = Tagger(FakeModelPredictor())
    docs = tagger.tag_many([("x", "短句。\n这是一个更长的句子。\n")])
    ent = token_entropies(tagger, docs)
    assert ent[("x", 0)] == pytest.approx(1.0)
    assert ent[("x", 1)] < 1e-6
    assert token_entropies(Tagger(FakePredictor()), docs) == {}
