"""Loading a model: model directory + inference backend → a ``ModelPredictor``.

The one place that composes the three: ``pipeline.model.model_dir`` (the directory and its
checks), ``pipeline.model.backends`` (the forward pass on PyTorch, ONNX Runtime or int8) and
``pipeline.model.modeling`` (the predictor). Keeping the composition here, above all three, is
what lets ``backends`` import ``modeling`` downward with no cycle back.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.model.backends import default_backend, make_runner
from pipeline.model.modeling import ModelPredictor, check_device, load_model_dir

#: Backends a predictor can run on (``torch-int8`` is a benchmark-only variant).
PREDICTOR_BACKENDS = ("torch", "onnx", "int8")


def load_predictor(
    folder: str | os.PathLike[str],
    device: str = "cpu",
    backend: str | None = None,
    batch_size: int = 32,
) -> ModelPredictor:
    """Load and check a model directory (``ModelLoadError`` names a bad file) and run it on
    ``backend``: ``"torch"`` (or None), ``"onnx"`` or ``"int8"``; ``"auto"`` takes the one
    recorded in ``<folder>/backend.json`` (``backends.default_backend``)."""
    if backend == "auto":
        backend = default_backend(folder)
    if backend not in (None, *PREDICTOR_BACKENDS):
        raise ValueError(f"unknown backend {backend!r}; expected torch, onnx or int8")
    check_device(device)
    on_torch = backend in (None, "torch")
    model, tokenizer, meta = load_model_dir(folder, device=device, load_weights=on_torch)
    runner = None if on_torch else make_runner(Path(folder), str(backend))
    name = f"model:{Path(folder).name}" + ("" if on_torch else f"[{backend}]")
    return ModelPredictor(model, tokenizer, meta, device=device, batch_size=batch_size, runner=runner, name=name)
