"""Helpers shared by the tests: tiny gold documents, a fake predictor, a tiny random model.

Nothing here touches the network; the model helper builds a two-layer BERT over a generated
vocabulary (transformers' own tests do the same).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipeline.annotation.gold import write_gold
from pipeline.predict import SentenceInput, SentencePrediction, SpanPrediction
from pipeline.records import GoldDocument, SentenceRecord, Target

# from test_scoring.py
RAW = (
    "各位代表！\n"
    "社会消费品零售总额突破1450亿元，城镇新增就业4.6万人。\n"
    "能耗强度下降3%，空气质量优良天数达到300天。\n"
    "新增市级以上金融机构5家。\n"
)


# from test_scoring.py
def _t(raw: str, s: int, e: int, cat: str = "商贸", **kw: object) -> Target:
    return Target(s, e, raw[s:e], cat, **kw)  # type: ignore[arg-type]


# from test_scoring.py
def _find(raw: str, text: str) -> tuple[int, int]:
    s = raw.index(text)
    return s, s + len(text)


# from test_scoring.py
def _sent(raw: str, doc_id: str, sid: int, text: str, cat: str, targets: list[Target]) -> SentenceRecord:
    s, e = _find(raw, text)
    return SentenceRecord(doc_id, sid, s, e, text, cat, targets)


# from test_scoring.py
def tiny_gold(doc_id: str = "d1", raw: str = RAW) -> GoldDocument:
    t1 = _t(raw, *_find(raw, "社会消费品零售总额突破1450亿元"), "商贸", value=1450, unit="亿元", bound="at_least")
    t2 = _t(raw, *_find(raw, "城镇新增就业4.6万人"), "民生", value=4.6, unit="万人")
    t3 = _t(raw, *_find(raw, "能耗强度下降3%"), "生态", value=3, unit="%", direction="down")
    t4 = _t(raw, *_find(raw, "空气质量优良天数达到300天"), "生态", value=300, unit="天")
    t5 = _t(raw, *_find(raw, "新增市级以上金融机构5家"), "金融", value=5, unit="家")
    sents = [
        _sent(raw, doc_id, 0, "各位代表！", "综合", []),
        _sent(raw, doc_id, 1, "社会消费品零售总额突破1450亿元，城镇新增就业4.6万人。", "商贸", [t1, t2]),
        _sent(raw, doc_id, 2, "能耗强度下降3%，空气质量优良天数达到300天。", "生态", [t3, t4]),
        _sent(raw, doc_id, 3, "新增市级以上金融机构5家。", "金融", [t5]),
    ]
    return GoldDocument(doc_id, raw, sents)


# from test_scoring.py
def copy_doc(doc: GoldDocument) -> list[SentenceRecord]:
    return [SentenceRecord.from_json(s.to_json()) for s in doc.sentences]


# from test_batch.py
# A clause with an Arabic number that is not a year (the fake's notion of a target).
_CLAUSE = re.compile(r"[^，,；;。：:！？!?、]*?[0-9]+(?:\.[0-9]+)?(?![0-9.]|年)[^，,；;。：:！？!?、]*")


# from test_batch.py
class FakePredictor:
    """Marks every clause holding an Arabic number (not a year); raises on sentences containing BOOM."""

    name = "fake"

    def predict(self, sentences: list[SentenceInput]) -> list[SentencePrediction]:
        out = []
        for s in sentences:
            if "BOOM" in s.text:
                raise RuntimeError("fake predictor exploded")
            spans = [SpanPrediction(m.start(), m.end(), 0.9) for m in _CLAUSE.finditer(s.text) if m.end() > m.start()]
            out.append(SentencePrediction("综合", {"综合": 0.8, "民生": 0.2}, spans))
        return out


# from test_batch.py
REPORT = "政府工作报告\n各位代表：\n一、2024年工作回顾\n去年地区生产总值增长5.2%。\n二、2025年工作安排\n地区生产总值增长6%左右，城镇新增就业4.6万人。\n社会消费品零售总额突破1450亿元。\n"


# from test_evaluate.py
def _gold_dir(tmp: Path, docs: Sequence[GoldDocument]) -> Path:
    """A ``data/gold`` + ``data/raw`` layout that ``load_gold_dir`` reads."""
    for d in docs:
        (tmp / "data" / "raw").mkdir(parents=True, exist_ok=True)
        (tmp / "data" / "raw" / f"{d.doc_id}.txt").write_text(d.raw, encoding="utf-8")
        write_gold(d.sentences, tmp / "data" / "gold" / f"{d.doc_id}.jsonl")
    return tmp / "data" / "gold"


# from test_training.py
LINES = [
    ("社会消费品零售总额突破1450亿元。", "商贸", ["社会消费品零售总额突破1450亿元"]),
    ("城镇新增就业4.6万人。", "民生", ["城镇新增就业4.6万人"]),
    ("能耗强度下降3%。", "生态", ["能耗强度下降3%"]),
    ("新增市级以上金融机构5家。", "金融", ["新增市级以上金融机构5家"]),
    ("深化国资国企改革。", "改革", []),
    ("建设高标准农田5万亩。", "农业", ["建设高标准农田5万亩"]),
]


# from test_training.py
def _doc(doc_id: str = "toy") -> GoldDocument:
    raw = "二、今年工作安排\n" + "\n".join(t for t, _, _ in LINES) + "\n"
    sents = []
    for i, (text, cat, targets) in enumerate(LINES):
        s = raw.index(text)
        ts = [Target(raw.index(t, s), raw.index(t, s) + len(t), t, cat) for t in targets]
        sents.append(SentenceRecord(doc_id, i, s, s + len(text), text, cat, ts))
    return GoldDocument(doc_id, raw, sents)


# from test_properties.py
VOCAB_TEXTS = [
    "地区生产总值增长5%左右，城镇新增就业4.6万人。社会消费品零售总额突破1450亿元。新建两个园区、GDP、5G、REITs"
]


# from test_properties.py
def make_tiny_model(
    folder: Path,
    seed: int = 0,
    max_length: int = 48,
    stride: int = 12,
    texts: Sequence[str] = (),
    fp16: bool = False,
) -> Path:
    """A random BERT (2 layers, hidden 32) over a generated vocabulary, saved as a full model
    directory; short windows so that a sentence of ~40 characters already needs several."""
    import torch

    from pipeline.model.modeling import JointModel, save_model_dir, small_bert_config
    from pipeline.model.vocab import build_vocab, load_tokenizer, save_vocab

    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        save_vocab(build_vocab(list(texts or VOCAB_TEXTS), include_cjk_block=False), tmp)
        tok = load_tokenizer(tmp)
    config = small_bert_config(
        len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    model = JointModel.from_config(config)
    save_model_dir(model, tok, folder, {"max_length": max_length, "stride": stride}, fp16=fp16)
    return folder


#: Training arguments of a tiny, fast fine-tuning run (tests of the training loop and its CLIs).
TINY_TRAIN: dict[str, object] = dict(
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    intermediate_size=64,
    batch_size=8,
    lr=3e-3,
    dropout=0.0,
    max_length=48,
    stride=8,
)
