"""Writes the streaming engine's reference fixture: a StreamingIncepSE with random weights exported by the
training code's own `export_streaming_onnx`, an input, and ONNX Runtime's logits at every sample.

Run from the repository root: `PYTHONPATH=training .venv/bin/python tools/make_streaming_fixture.py`. Output goes
to Tests/ModelTests/Fixtures/streaming/: `streaming.onnx` (5 classes, a 20-sample time constant so that the running
means forget within the record and their cut history is exercised), `input.f32` `[1][12][1000]` and `logits.f32`
`[1][5][1000]` (raw little-endian float32), and `index.json` with the shapes and the PyTorch-vs-ONNX-Runtime gap.
Every BatchNorm gets random statistics and affine parameters so that folding them at load is exercised.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from ecgtrain.export import export_streaming_onnx, streaming_metadata
from ecgtrain.model import StreamingIncepSE

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "ModelTests" / "Fixtures" / "streaming"
CLASSES = 5
TIME_CONSTANT_SAMPLES = 20
SAMPLES = 1000


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = StreamingIncepSE(CLASSES, TIME_CONSTANT_SAMPLES)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            channels = module.num_features
            module.running_mean.copy_(torch.randn(channels, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(channels, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(channels, generator=generator) * 0.1)
    model.eval()
    metadata = {
        "ecg.format_version": "1",
        "ecg.classes": json.dumps([{"code": f"C{i}", "description": f"class {i}"} for i in range(CLASSES)]),
        "ecg.thresholds": json.dumps([0.5] * CLASSES),
        "ecg.sample_rate_hz": "100",
        "ecg.leads": json.dumps(["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]),
        "ecg.units": "mV",
        "ecg.preprocessing": json.dumps([{"op": "standardize", "mean": [0.0] * 12, "std": [0.2] * 12}]),
        **streaming_metadata(model, first_readout_samples=250),
    }
    path = OUT / "streaming.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_streaming_onnx(model, path, metadata)
    x = torch.randn(1, 12, SAMPLES, generator=generator).numpy()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"input": x})
    with torch.no_grad():
        exact = model(torch.from_numpy(x)).numpy()
    np.ascontiguousarray(x, dtype="<f4").tofile(OUT / "input.f32")
    np.ascontiguousarray(logits, dtype="<f4").tofile(OUT / "logits.f32")
    index = {
        "generator": "tools/make_streaming_fixture.py",
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "model": path.name,
        "input": "input.f32",
        "logits": "logits.f32",
        "leads": 12,
        "samples": SAMPLES,
        "classes": CLASSES,
        "time_constant_samples": TIME_CONSTANT_SAMPLES,
        "torch_vs_ort_max_abs": float(np.abs(exact - logits).max()),
    }
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB, |torch - ort| max {index['torch_vs_ort_max_abs']:.2e}")


if __name__ == "__main__":
    main()
