"""JointModel / ModelPredictor: overfit → save → reload → same predictions; load errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from pipeline.errors import ModelLoadError
from pipeline.model.load import load_predictor
from pipeline.model.model_dir import META_FILE, WEIGHTS_FILE
from pipeline.model.modeling import (
    JointModel,
    ModelPredictor,
    model_size_bytes,
    rule_hints,
    small_bert_config,
)
from pipeline.predict import SentenceInput
from pipeline.records import GoldDocument, SentenceRecord, Target
from pipeline.schema import CATEGORIES
from pipeline.training.loop import TrainConfig, examples_from_docs, train_model

RAW = (
    "一、2024年工作安排\n"
    "社会消费品零售总额突破1450亿元。城镇新增就业4.6万人，能耗强度下降3%。\n"
    "建设5G基站200个，发行REITs产品2只。各位代表！\n"
)


def _doc() -> GoldDocument:
    def rec(i: int, text: str, cat: str, targets: list[tuple[str, str]]) -> SentenceRecord:
        s = RAW.index(text)
        ts = []
        for t, c in targets:
            a = RAW.index(t, s)
            ts.append(Target(a, a + len(t), t, c))
        return SentenceRecord("toy", i, s, s + len(text), text, cat, ts)

    return GoldDocument(
        "toy",
        RAW,
        [
            rec(0, "一、2024年工作安排", "综合", []),
            rec(1, "社会消费品零售总额突破1450亿元。", "商贸", [("社会消费品零售总额突破1450亿元", "商贸")]),
            rec(
                2,
                "城镇新增就业4.6万人，能耗强度下降3%。",
                "民生",
                [("城镇新增就业4.6万人", "民生"), ("能耗强度下降3%", "生态")],
            ),
            rec(
                3,
                "建设5G基站200个，发行REITs产品2只。",
                "产业",
                [("建设5G基站200个", "产业"), ("发行REITs产品2只", "金融")],
            ),
            rec(4, "各位代表！", "综合", []),
        ],
    )


TINY = dict(
    hidden_size=32,
    num_layers=2,
    num_heads=2,
    intermediate_size=64,
    batch_size=8,
    lr=3e-3,
    fixed_epochs=80,
    dropout=0.0,
    max_length=64,
    stride=8,
    target_category_source="span",
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelPredictor, Path, GoldDocument]:
    doc = _doc()
    pred, _ = train_model(examples_from_docs([doc]), [], TrainConfig(**TINY), vocab_texts=[RAW])
    out = tmp_path_factory.mktemp("model") / "m"
    pred.meta["train_gold_sha256"] = "test"
    pred.save(out)
    return pred, out, doc


def _inputs(doc: GoldDocument) -> list[SentenceInput]:
    return [SentenceInput(s.text, "plan", ("一、2024年工作安排",)) for s in doc.sentences] + [SentenceInput("")]


@pytest.mark.slow
def test_overfit_save_reload_same_predictions(trained: tuple[ModelPredictor, Path, GoldDocument]) -> None:
    pred, out, doc = trained
    before = pred.predict(_inputs(doc))
    for s, p in zip(doc.sentences, before):
        gold = [(t.start - s.start, t.end - s.start, t.category) for t in s.targets]
        assert [(x.start, x.end, x.category) for x in p.spans] == gold, s.text
        assert p.category == s.category
        assert abs(sum(p.category_probs.values()) - 1.0) < 1e-6
        assert all(0.0 < x.score <= 1.0 for x in p.spans)
    assert before[-1].spans == []  # empty sentence: a prediction, no spans
    reloaded = load_predictor(out)
    after = reloaded.predict(_inputs(doc))
    assert reloaded.target_category_source == "span"
    for a, b in zip(before, after):
        assert a.category == b.category
        assert [(x.start, x.end, x.category) for x in a.spans] == [(x.start, x.end, x.category) for x in b.spans]
        # fp16 weights on disk: probabilities agree closely, not bit for bit.
        assert abs(a.category_probs[a.category] - b.category_probs[b.category]) < 0.02
    meta = json.loads((out / META_FILE).read_text(encoding="utf-8"))
    for key in (
        "schema_version",
        "bio_tags",
        "categories",
        "train_args",
        "seed",
        "train_gold_sha256",
        "library_versions",
        "created",
        "target_category_source",
        "files_sha256",
    ):
        assert key in meta, key
    assert (out / "vocab.txt").exists() and (out / "MODEL_CARD.md").exists()
    assert model_size_bytes(out) < 25_000_000


def test_batch_order_and_size_do_not_change_predictions(trained: tuple[ModelPredictor, Path, GoldDocument]) -> None:
    pred, _, doc = trained
    inputs = _inputs(doc)
    a = pred.predict(inputs)
    pred.batch_size = 2
    b = pred.predict(list(reversed(inputs)))[::-1]
    pred.batch_size = 32
    for x, y in zip(a, b):
        assert [(s.start, s.end) for s in x.spans] == [(s.start, s.end) for s in y.spans]
        assert x.category == y.category


def test_tagger_offsets_point_into_raw(trained: tuple[ModelPredictor, Path, GoldDocument]) -> None:
    from pipeline.tagging.tagger import Tagger

    pred, out, _ = trained
    tagged = Tagger.load(out)(RAW, "toy")
    targets = tagged.targets()
    assert targets
    for t in targets:
        assert RAW[t.start : t.end] == t.text
    assert pred.predict([]) == []


def _copy(out: Path, tmp_path: Path) -> Path:
    d = tmp_path / "copy"
    shutil.copytree(out, d)
    return d


@pytest.mark.parametrize("missing", [META_FILE, WEIGHTS_FILE, "vocab.txt", "config.json"])
def test_missing_file_is_named(
    trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path, missing: str
) -> None:
    d = _copy(trained[1], tmp_path)
    (d / missing).unlink()
    with pytest.raises(ModelLoadError, match=missing.replace(".", r"\.")):
        load_predictor(d)


def _edit_meta(d: Path, **changes: object) -> None:
    meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (d / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def test_other_schema_version(trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path) -> None:
    d = _copy(trained[1], tmp_path)
    _edit_meta(d, schema_version=999)
    with pytest.raises(ModelLoadError, match="schema version"):
        load_predictor(d)


def test_label_map_mismatch(trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path) -> None:
    d = _copy(trained[1], tmp_path)
    _edit_meta(d, categories=list(reversed(CATEGORIES)))
    with pytest.raises(ModelLoadError, match="category label map"):
        load_predictor(d)


def test_head_sizes_must_match_label_maps(trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path) -> None:
    from safetensors.torch import save_file

    d = _copy(trained[1], tmp_path)
    model = JointModel.from_config(small_bert_config(30, 32, 1, 2, 64))
    model.sentence_head = torch.nn.Linear(64, 5)  # a 5-category model
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / WEIGHTS_FILE))
    _edit_meta(d, files_sha256={})
    with pytest.raises(ModelLoadError, match="head sizes"):
        load_predictor(d)


def test_corrupted_weights(trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path) -> None:
    d = _copy(trained[1], tmp_path)
    data = bytearray((d / WEIGHTS_FILE).read_bytes())
    data[-100:] = b"\x00" * 100
    (d / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="corrupted"):
        load_predictor(d)
    _edit_meta(d, files_sha256={})  # without the hash, a truncated file is still caught
    (d / WEIGHTS_FILE).write_bytes(bytes(data[:1000]))
    with pytest.raises(ModelLoadError, match=WEIGHTS_FILE.replace(".", r"\.")):
        load_predictor(d)


def test_corrupted_meta_and_unknown_backend(trained: tuple[ModelPredictor, Path, GoldDocument], tmp_path: Path) -> None:
    d = _copy(trained[1], tmp_path)
    with pytest.raises(ValueError, match="backend"):
        load_predictor(d, backend="tpu")
    (d / META_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="corrupted"):
        load_predictor(d)
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_predictor(tmp_path / "nowhere")


def test_forward_is_separable(trained: tuple[ModelPredictor, Path, GoldDocument]) -> None:
    pred, _, _ = trained
    ids = torch.tensor([[2, 20, 21, 3]])
    tl, sl = pred.forward(ids, torch.ones_like(ids), torch.zeros_like(ids))
    assert tl.shape == (1, 4, 3 + len(CATEGORIES)) and sl.shape == (1, len(CATEGORIES))
    calls = []

    def runner(i: torch.Tensor, a: torch.Tensor, t: torch.Tensor) -> tuple[object, object]:
        calls.append(i.shape)
        return pred.model(i, a, t)

    other = ModelPredictor(None, pred.tokenizer, pred.meta, runner=runner)
    assert [p.category for p in other.predict([SentenceInput("城镇新增就业4.6万人")])] == [
        p.category for p in pred.predict([SentenceInput("城镇新增就业4.6万人")])
    ]
    assert calls


@pytest.mark.slow
def test_rule_features_overfit_save_reload(tmp_path: Path) -> None:
    """Stacked model: rule features reach the model, travel in govtarget.json, survive reload."""
    doc = _doc()
    cfg = TrainConfig(**{**TINY, "fixed_epochs": 60}, rule_features=True, rule_category_weight=0.5)
    pred, _ = train_model(examples_from_docs([doc]), [], cfg, vocab_texts=[RAW])
    assert pred.rule_features and pred.model is not None and pred.model.config.type_vocab_size == 4
    seen: list[torch.Tensor] = []
    forward = pred.forward

    def spy(ids: torch.Tensor, am: torch.Tensor, tt: torch.Tensor):  # type: ignore[no-untyped-def]
        seen.append(tt.clone())
        return forward(ids, am, tt)

    pred.forward = spy  # type: ignore[method-assign]
    inputs = _inputs(doc)
    before = pred.predict(inputs)
    types = set(torch.cat([t.flatten() for t in seen]).tolist())
    assert {2, 3} <= types  # the rules' spans are in the input
    for s, p in zip(doc.sentences, before):
        assert [(x.start, x.end) for x in p.spans] == [(t.start - s.start, t.end - s.start) for t in s.targets]
        assert abs(sum(p.category_probs.values()) - 1.0) < 1e-6
    pred.meta["train_gold_sha256"] = "test"
    pred.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / META_FILE).read_text(encoding="utf-8"))
    assert meta["rule_features"] is True and meta["train_args"]["rule_features"] is True
    assert meta["rule_category_weight"] == 0.5 and len(meta["rules_sha256"]) == 64
    reloaded = load_predictor(tmp_path / "m")
    assert reloaded.rule_features and reloaded.rule_category_weight == 0.5
    after = reloaded.predict(inputs)
    for a, b in zip(before, after):
        assert a.category == b.category
        assert [(x.start, x.end) for x in a.spans] == [(x.start, x.end) for x in b.spans]
    # Target category from the rules for spans the rules found too.
    reloaded.target_category_source = "rule"
    rules = rule_hints(inputs)
    for p, r in zip(reloaded.predict(inputs), rules):
        rc = {(x.start, x.end): x.category or r.category for x in r.spans}
        assert all(x.category == rc[(x.start, x.end)] for x in p.spans if (x.start, x.end) in rc)


def test_widen_token_types_keeps_outputs_and_reloads(tmp_path: Path) -> None:
    torch.manual_seed(0)
    m = JointModel.from_config(
        small_bert_config(64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    )
    m.eval()
    ids = torch.randint(5, 64, (2, 7))
    am = torch.ones_like(ids)
    tt = torch.zeros_like(ids)
    with torch.no_grad():
        ref = m(ids, am, tt)
    m.widen_token_types(4)
    assert m.config.type_vocab_size == 4
    emb = m.encoder.embeddings.token_type_embeddings.weight
    assert torch.equal(emb[2], emb[0]) and torch.equal(emb[3], emb[0])
    with torch.no_grad():
        same = m(ids, am, tt)
        as_rule = m(ids, am, torch.full_like(ids, 3))  # rows 2/3 start as copies of row 0
    assert torch.allclose(ref[0], same[0]) and torch.allclose(ref[0], as_rule[0], atol=1e-5)
    m.encoder.save_pretrained(tmp_path / "enc")
    again = JointModel.from_pretrained_encoder(str(tmp_path / "enc"))
    assert again.config.type_vocab_size == 4
