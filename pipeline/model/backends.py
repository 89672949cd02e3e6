"""Stage: inference backends for the model's forward step (ONNX Runtime fp32 and int8).

``make_runner(model_dir, backend)`` returns a callable ``(input_ids, attention_mask,
token_type_ids) -> (token_logits, sentence_logits)`` that replaces ``JointModel.forward`` in
``pipeline.model.modeling.ModelPredictor``; everything around it (encoding, length-sorted batching,
decoding) is shared, so a backend can only change the numbers, never the record format.

* ``"torch"``: the fp32 PyTorch model (here for the benchmark; the predictor runs it itself).
* ``"onnx"``: the forward exported to ONNX with dynamic batch and sequence axes, run with
  ONNX Runtime (intra-op threads = physical cores).
* ``"int8"``: dynamic int8 quantisation of that ONNX graph (``quantize_dynamic``, weights
  int8, activations quantised on the fly). PyTorch's dynamic quantisation is available as
  ``"torch-int8"`` for comparison; ``bench/README.md`` has the measurements behind the choice.

Exports are cached in ``<model_dir>/onnx/`` (or ``~/.cache/govtarget/onnx`` when the model
directory is read-only), named by the sha256 of the weights and the torch version, written
atomically so a killed export never leaves a broken file that looks done.

Which backend a model uses by default is recorded in ``<model_dir>/backend.json`` (written by
``bench/bench_infer.py --write-default`` after measuring speed and the strict-F1 cost on the gold
set; ``default_backend`` reads it, ``"torch"`` when absent).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import BackendError
from pipeline.io import atomic_write_text
from pipeline.model.model_dir import weights_sha256
from pipeline.model.modeling import load_model_dir

BACKENDS: tuple[str, ...] = ("torch", "onnx", "int8", "torch-int8")
BACKEND_FILE = "backend.json"
CACHE_SUBDIR = "onnx"
OPSET = 17
Runner = Callable[[Any, Any, Any], tuple[Any, Any]]
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("token_logits", "sentence_logits")


def physical_cores() -> int:
    """Physical cores (hyper-threads share execution units, so they add little to matmuls)."""
    try:
        cores: set[tuple[str, str]] = set()
        phys = core = ""
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                    cores.add((phys, core))
        if cores:
            return max(1, len(cores))
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def default_threads() -> int:
    """Intra-op threads: ``GOVTARGET_THREADS`` if set; 1 on machines reporting ≤ 2 cores; else the physical cores.

    Measured on the 2-vCPU development VM (trained 4×128 model, 213k characters): the batch path
    with torch fp32 took 10.6 CPU-s with 1 thread and 79 CPU-s with 2 (threads spin at barriers;
    two vCPUs are often hyper-threads of one host core), ONNX Runtime int8 8.8 s vs 13.0 s.
    """
    env = os.environ.get("GOVTARGET_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    n = physical_cores()
    return 1 if n <= 2 else n


def apply_threads(threads: int | None = None) -> int:
    """Set the threads of torch and (through ``GOVTARGET_THREADS``) of ONNX Runtime sessions."""
    import torch

    n = threads or default_threads()
    os.environ["GOVTARGET_THREADS"] = str(n)
    torch.set_num_threads(n)
    return n


def _model_key(model_dir: Path) -> str:
    """Cache key: weights (their recorded or computed sha256), torch version, opset."""
    import torch

    digest = weights_sha256(model_dir, compute=True)
    return hashlib.sha256(f"{digest}|{torch.__version__}|{OPSET}".encode()).hexdigest()[:16]


def cache_dir(model_dir: Path) -> Path:
    d = model_dir / CACHE_SUBDIR
    try:
        d.mkdir(exist_ok=True)
        probe = d / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return d
    except OSError:  # read-only model directory: a per-user cache instead
        alt = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "govtarget" / "onnx"
        alt.mkdir(parents=True, exist_ok=True)
        return alt


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def cache_intact(path: Path) -> bool:
    """True when the cached ``path`` has the sha256 recorded when it was built (a truncated or
    edited export, or one from before digests were recorded, is not trusted)."""
    from pipeline.io import sha256_file

    try:
        return path.is_file() and _digest_path(path).read_text(encoding="ascii").strip() == sha256_file(path)
    except (OSError, UnicodeDecodeError):
        return False


def _atomic_produce(path: Path, produce: Callable[[Path], None]) -> Path:
    """Run ``produce(tmp)`` and move the result to ``path`` only when it finished; a cached file
    is reused only when it is intact (``cache_intact``), else it is rebuilt."""
    from pipeline.io import atomic_write_text, sha256_file

    if cache_intact(path):
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        produce(Path(tmp))
        digest = sha256_file(tmp)
        os.replace(tmp, path)
        atomic_write_text(_digest_path(path), digest + "\n")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class _Forward:
    """The model's forward as a plain module (a tuple out, no dropout): what gets exported."""

    def __new__(cls, model: Any) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self, m: Any) -> None:
                super().__init__()
                self.m = m

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
                return self.m(input_ids, attention_mask, token_type_ids)

        return Wrapped(model).eval()


def export_onnx(model_dir: str | os.PathLike[str], out: Path | None = None) -> Path:
    """Export the fp32 forward to ONNX (dynamic batch and sequence axes); cached."""
    import torch

    d = Path(model_dir)
    path = out or cache_dir(d) / f"model-{_model_key(d)}.onnx"

    def produce(tmp: Path) -> None:
        model, _, _ = load_model_dir(d, device="cpu", load_weights=True)
        assert model is not None
        wrapped = _Forward(model)
        ids = torch.ones((2, 16), dtype=torch.long)
        am = torch.ones((2, 16), dtype=torch.long)
        am[1, 10:] = 0  # a padded row, so masking is traced as data, not folded away
        tt = torch.zeros((2, 16), dtype=torch.long)
        dyn = {n: {0: "batch", 1: "seq"} for n in INPUT_NAMES}
        dyn["token_logits"] = {0: "batch", 1: "seq"}
        dyn["sentence_logits"] = {0: "batch"}
        # The tracer warns about shape-dependent Python branches in transformers' masking code;
        # tests check the export against torch on unseen batch sizes, lengths and padding.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                (ids, am, tt),
                str(tmp),
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=dyn,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )

    try:
        return _atomic_produce(path, produce)
    except Exception as e:
        raise BackendError(f"{d}: ONNX export failed ({type(e).__name__}: {e})") from e


def quantize_onnx(model_dir: str | os.PathLike[str]) -> Path:
    """Dynamic int8 quantisation (weights int8, activations quantised per batch) of the export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    d = Path(model_dir)
    fp32 = export_onnx(d)
    path = fp32.with_name(fp32.stem + "-int8-pc7.onnx")

    def produce(tmp: Path) -> None:
        # Only MatMul/Gemm: quantising the embedding gathers costs accuracy for no speed.
        # reduce_range (7-bit weights): on CPUs without VNNI the u8×s8 kernels saturate their 16-bit
        # sums with full-range weights; measured on a 4×256 BERT, token-tag agreement with fp32 went
        # from 0.945 to 0.995 (max logit error 0.44 → 0.03) at the same speed. Per-channel scales too.
        quantize_dynamic(
            str(fp32),
            str(tmp),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=True,
            reduce_range=True,
        )

    try:
        return _atomic_produce(path, produce)
    except Exception as e:
        raise BackendError(f"{d}: int8 quantisation failed ({type(e).__name__}: {e})") from e


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.int64)


def ort_runner(onnx_path: str | os.PathLike[str], threads: int | None = None, device: str = "cpu") -> Runner:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or default_threads()
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    sess = ort.InferenceSession(str(onnx_path), sess_options=so, providers=providers)

    def run(input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[np.ndarray, np.ndarray]:
        tl, sl = sess.run(
            list(OUTPUT_NAMES),
            {
                "input_ids": _to_numpy(input_ids),
                "attention_mask": _to_numpy(attention_mask),
                "token_type_ids": _to_numpy(token_type_ids),
            },
        )
        return tl, sl

    run.session = sess  # type: ignore[attr-defined]
    return run


def torch_runner(
    model_dir: str | os.PathLike[str], quantized: bool = False, device: str = "cpu", threads: int | None = None
) -> Runner:
    import torch

    model, _, _ = load_model_dir(Path(model_dir), device=device, load_weights=True)
    assert model is not None
    torch.set_num_threads(threads or default_threads())
    if quantized:
        model = torch.ao.quantization.quantize_dynamic(model.cpu(), {torch.nn.Linear}, dtype=torch.qint8)
    model.eval()

    def run(input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
        dev = "cpu" if quantized else device
        with torch.inference_mode():
            return model(input_ids.to(dev), attention_mask.to(dev), token_type_ids.to(dev))

    return run


def make_runner(
    model_dir: str | os.PathLike[str], backend: str, device: str = "cpu", threads: int | None = None
) -> Runner:
    """A forward callable for ``backend`` (see module docstring); exports and caches as needed."""
    d = Path(model_dir)
    if backend == "torch":
        return torch_runner(d, device=device, threads=threads)
    if backend == "torch-int8":
        return torch_runner(d, quantized=True, threads=threads)
    if backend == "onnx":
        return ort_runner(export_onnx(d), threads=threads, device=device)
    if backend == "int8":
        return ort_runner(quantize_onnx(d), threads=threads)
    raise BackendError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def default_backend(model_dir: str | os.PathLike[str]) -> str:
    """The backend recorded in ``<model_dir>/backend.json``; ``"torch"`` when none was chosen.

    The choice holds only for the weights it was measured on: a retrained model saved into the
    same folder falls back to ``"torch"`` until it is measured again.
    """
    d = Path(model_dir)
    try:
        rec = json.loads((d / BACKEND_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "torch"
    if not isinstance(rec, dict) or rec.get("weights_sha256") != weights_sha256(d):
        return "torch"
    choice = rec.get("default", "torch")
    return choice if choice in BACKENDS else "torch"


def write_backend_choice(model_dir: str | os.PathLike[str], choice: str, evidence: dict[str, Any]) -> Path:
    """Record the default backend, the weights it was measured on, and the measurements."""

    if choice not in BACKENDS:
        raise BackendError(f"unknown backend {choice!r}")
    d = Path(model_dir)
    rec = {"default": choice, "weights_sha256": weights_sha256(d), **evidence}
    p = d / BACKEND_FILE
    atomic_write_text(p, json.dumps(rec, ensure_ascii=False, indent=2) + "\n")
    return p


def choose_backend(
    f1: dict[str, float],
    speed: dict[str, float],
    tolerance: float = 0.005,
    agreement: dict[str, float] | None = None,
    min_agreement: float | None = None,
) -> str:
    """Fastest backend whose strict F1 is within ``tolerance`` of fp32 torch (``f1["torch"]``).

    With ``min_agreement``, a backend must also reproduce at least that share of fp32's target
    spans on unlabeled text (strict F1 against fp32's output): a small gold set can hide changes.
    """
    ref = f1["torch"]
    ok = [b for b in speed if b in f1 and f1[b] >= ref - tolerance]
    if min_agreement is not None and agreement is not None:
        ok = [b for b in ok if b == "torch" or agreement.get(b, 0.0) >= min_agreement]
    return max(ok, key=lambda b: speed[b]) if ok else "torch"
