"""Writes the engine's reference fixtures: IncepSE ONNX files with random weights, inputs, and ONNX Runtime's logits.

Run from the repository root: `.venv/bin/python tools/make_model_fixtures.py`. Output goes to
Tests/ModelTests/Fixtures/: `*.onnx` models, `*.f32` raw little-endian float32 arrays, `index.json` naming which
input and expected logits belong to which model, and `bad/`: small broken model files for the loader's error tests.

Forms covered:
- `paper`: 6 InceptionTime modules (bottleneck 32, kernels 39/19/9, 32 filters per branch, max-pool branch), an SE
  block after each module (reduction 16, linear layers), a residual shortcut every 3 modules, 71 outputs, with our
  `ecg.*` metadata. Exported by the default (dynamo) exporter.
- `seed`: a 1x1 stem, SE on each bottleneck output (1x1 convolutions), even kernels 40/20/10 padded as Keras pads
  them (k=10: 4 left, 5 right), a residual shortcut every block, no metadata. Exported by both exporters.
- `tiny_sigmoid`: `tiny` with a final sigmoid, as exports that output probabilities end; its cases name `tiny`'s
  logits (the engine reads the logits before the Sigmoid) and its own ONNX Runtime output as `probabilities`.
Every BatchNorm gets random running statistics and affine parameters so that folding them at load is exercised.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "ModelTests" / "Fixtures"
SCP_STATEMENTS = ROOT.parent / "shared" / "seed-model" / "scp_statements.csv"
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def max_pool_same(x: torch.Tensor, kernel: int, pool_2d: bool) -> torch.Tensor:
    """Stride-1 max pool keeping the length. The 2-D form keeps the time axis dynamic under the dynamo exporter,
    which specialises it for `max_pool1d`."""
    if pool_2d:
        return F.max_pool2d(x.unsqueeze(2), (1, kernel), 1, (0, kernel // 2)).squeeze(2)
    return F.max_pool1d(x, kernel, 1, kernel // 2)


class SqueezeExcite(nn.Module):
    """Channel gates; `conv=True` writes the two dense layers as 1x1 convolutions on the kept time axis."""

    def __init__(self, channels: int, reduction: int, conv: bool):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.conv = conv
        make = (lambda i, o: nn.Conv1d(i, o, 1)) if conv else nn.Linear
        self.squeeze = make(channels, hidden)
        self.excite = make(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv:
            return x * torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean(dim=2, keepdim=True)))))
        return x * torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean(dim=2))))).unsqueeze(2)


class Inception(nn.Module):
    """Bottleneck (optionally gated by SE), three convolutions, max-pool branch, concat, BN, ReLU."""

    def __init__(self, cin, filters, bottleneck, kernels, se_on_bottleneck, pool_2d, reduction):
        super().__init__()
        self.pool_2d = pool_2d
        self.bottleneck = nn.Conv1d(cin, bottleneck, 1, bias=False)
        self.gate = SqueezeExcite(bottleneck, reduction, conv=True) if se_on_bottleneck else None
        pad = lambda k: (k - 1) // 2 if k % 2 else "same"  # noqa: E731 - "same" pads even kernels 4/5 like Keras
        self.convs = nn.ModuleList(nn.Conv1d(bottleneck, filters, k, padding=pad(k), bias=False) for k in kernels)
        self.pool_conv = nn.Conv1d(cin, filters, 1, bias=False)
        self.bn = nn.BatchNorm1d(filters * (len(kernels) + 1))

    def forward(self, x):
        b = self.bottleneck(x)
        if self.gate is not None:
            b = self.gate(b)
        branches = [c(b) for c in self.convs] + [self.pool_conv(max_pool_same(x, 3, self.pool_2d))]
        return F.relu(self.bn(torch.cat(branches, dim=1)))


class IncepSE(nn.Module):
    """The IncepSE family, configurable enough for the paper's form and the seed's form."""

    def __init__(self, *, classes, depth, filters, bottleneck, kernels, stem, se_after_module, se_on_bottleneck,
                 residual_every, pool_2d, reduction=16, leads=12):
        super().__init__()
        width = filters * (len(kernels) + 1)
        self.stem = nn.Sequential(nn.Conv1d(leads, stem, 1), nn.BatchNorm1d(stem), nn.ReLU()) if stem else None
        cin = stem or leads
        self.modules_ = nn.ModuleList(
            Inception(cin if i == 0 else width, filters, bottleneck, kernels, se_on_bottleneck, pool_2d, reduction)
            for i in range(depth))
        self.se = nn.ModuleList(SqueezeExcite(width, reduction, conv=False) for _ in range(depth)) \
            if se_after_module else None
        self.residual_every = residual_every
        self.shortcuts = nn.ModuleList(
            nn.Sequential(nn.Conv1d(cin if i == 0 else width, width, 1, bias=False), nn.BatchNorm1d(width))
            for i in range(depth // residual_every))
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        if self.stem is not None:
            x = self.stem(x)
        residual = x
        for i, module in enumerate(self.modules_):
            x = module(x)
            if self.se is not None:
                x = self.se[i](x)
            if i % self.residual_every == self.residual_every - 1:
                x = F.relu(x + self.shortcuts[i // self.residual_every](residual))
                residual = x
        return self.head(x.mean(dim=2))


class WithSigmoid(nn.Module):
    """A network whose output is probabilities: the same logits through a final sigmoid."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


def randomise_batch_norms(net: nn.Module, gen: torch.Generator) -> None:
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)


def export(net: nn.Module, path: Path, dynamo: bool, metadata: dict[str, str], strip: bool) -> None:
    """Exports with dynamic batch and time, adds `metadata`; `strip` drops the exporter's per-node debug
    annotations (source locations, value shapes), which keeps the 6-module model under 2 MiB."""
    example = (torch.randn(2, 12, 250),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            dim = torch.export.Dim.DYNAMIC
            torch.onnx.export(net, example, path, input_names=["input"], output_names=["logits"], dynamo=True,
                              dynamic_shapes=({0: dim, 2: dim},), external_data=False, verbose=False)
        else:
            torch.onnx.export(net, example, path, input_names=["input"], output_names=["logits"], dynamo=False,
                              dynamic_axes={"input": {0: "batch", 2: "time"}, "logits": {0: "batch"}})
    model = onnx.load(path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert not dims[0].HasField("dim_value") and not dims[2].HasField("dim_value"), "batch and time must be dynamic"
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    # Source stack traces name the files of the machine that exported; they are no part of a fixture.
    for node in model.graph.node:
        node.doc_string = ""
        kept = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    if strip:
        for node in model.graph.node:
            node.doc_string = ""
            del node.metadata_props[:]
        for value in [*model.graph.input, *model.graph.output, *model.graph.initializer]:
            del value.metadata_props[:]
        del model.graph.value_info[:]
    onnx.save(model, path)


def paper_metadata(classes: int) -> dict[str, str]:
    with open(SCP_STATEMENTS, newline="") as f:
        rows = list(csv.reader(f))[1:]
    codes = [{"code": r[0], "description": r[1]} for r in rows][:classes]
    assert len(codes) == classes, f"{SCP_STATEMENTS} lists {len(codes)} statements"
    rng = np.random.default_rng(7)
    return {
        "ecg.format_version": "1",
        "ecg.architecture": "IncepSE",
        "ecg.task": "all",
        "ecg.classes": json.dumps(codes),
        "ecg.thresholds": json.dumps([round(float(v), 4) for v in rng.uniform(0.05, 0.6, classes)]),
        "ecg.sample_rate_hz": "100",
        "ecg.window_samples": "250",
        "ecg.leads": json.dumps(LEADS),
        "ecg.units": "mV",
        "ecg.preprocessing": json.dumps([
            {"op": "sos_filter", "sos": [[0.96, -1.92, 0.96, 1.0, -1.91, 0.92]], "description": "test high-pass"},
            {"op": "standardize", "mean": [0.0] * 12, "std": [0.2] * 12}]),
        "ecg.provenance": json.dumps({"data": "random weights", "purpose": "engine test fixture"}),
    }


def write_f32(name: str, array: np.ndarray) -> str:
    np.ascontiguousarray(array, dtype="<f4").tofile(FIXTURES / name)
    return name


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def make_bad_files(good: Path) -> None:
    """Small broken variants of a good model, one problem each."""
    bad = FIXTURES / "bad"
    bad.mkdir(exist_ok=True)
    base = onnx.load(good)

    def save(name: str, model: onnx.ModelProto) -> None:
        onnx.save(model, bad / name)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    conv = next(i for i in m.graph.initializer if len(i.dims) == 3 and i.dims[2] > 1)
    arr = numpy_helper.to_array(conv)
    conv.CopyFrom(numpy_helper.from_array(arr[:, :-1, :].copy(), conv.name))
    save("wrong_shape.onnx", m)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    relu = next(n for n in m.graph.node if n.op_type == "Relu")
    relu.op_type = "Tanh"
    relu.name = "suspicious_tanh"
    save("unsupported_op.onnx", m)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    victim = next(i for i in m.graph.initializer if i.name.endswith("weight") and len(i.dims) == 2)
    m.graph.initializer.remove(victim)
    save("missing_initializer.onnx", m)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    target = next(i for i in m.graph.initializer if len(i.dims) == 3)
    arr = numpy_helper.to_array(target).copy()
    arr.flat[3] = np.nan
    target.CopyFrom(numpy_helper.from_array(arr, target.name))
    save("nan_weight.onnx", m)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    target = next(i for i in m.graph.initializer if len(i.dims) == 3)
    target.ClearField("raw_data")
    target.data_location = onnx.TensorProto.EXTERNAL
    target.external_data.add(key="location", value="weights.bin")
    save("external_data.onnx", m)

    m = onnx.ModelProto.FromString(base.SerializeToString())
    conv = next(n for n in m.graph.node if n.op_type == "Conv" and any(a.name == "pads" for a in n.attribute))
    pads = next(a for a in conv.attribute if a.name == "pads")
    del pads.ints[:]
    pads.ints.extend([2**62, 2**62])
    save("huge_pads.onnx", m)


def sigmoid_cases(tiny: nn.Module, inputs: dict[int, np.ndarray]) -> list[dict]:
    """Exports `tiny` ending in a sigmoid; its cases expect `tiny`'s logits, and its ORT output is checked to be
    their sigmoid."""
    path = FIXTURES / "tiny_sigmoid.onnx"
    wrapped = WithSigmoid(tiny).eval()
    export(wrapped, path, True, {}, False)
    assert onnx.load(path).graph.node[-1].op_type == "Sigmoid", "the export must end in Sigmoid"
    cases = []
    for t, x in inputs.items():
        for batch in (1, 5):
            probabilities = run_ort(path, x[:batch])
            logits = run_ort(FIXTURES / "tiny.onnx", x[:batch])
            with torch.no_grad():
                reference = wrapped(torch.from_numpy(x[:batch])).numpy()
            cases.append({
                "model": path.name, "input": f"input_t{t}.f32", "batch": batch, "time": t,
                "classes": int(logits.shape[1]), "logits": f"tiny_t{t}_b{batch}.f32",
                "probabilities": write_f32(f"tiny_sigmoid_t{t}_b{batch}.f32", probabilities),
                "torch_vs_ort_max_abs": float(np.abs(reference - probabilities).max()),
                "sigmoid_of_logits_vs_ort_max_abs": float(np.abs(1 / (1 + np.exp(-logits)) - probabilities).max()),
            })
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    paper = dict(classes=71, depth=6, filters=32, bottleneck=32, kernels=(39, 19, 9), stem=0,
                 se_after_module=True, se_on_bottleneck=False, residual_every=3)
    seed = dict(classes=71, depth=3, filters=16, bottleneck=16, kernels=(40, 20, 10), stem=32,
                se_after_module=False, se_on_bottleneck=True, residual_every=1)
    tiny = dict(classes=3, depth=1, filters=4, bottleneck=4, kernels=(5, 3, 2), stem=0,
                se_after_module=True, se_on_bottleneck=False, residual_every=1, reduction=4)
    models = [
        ("paper.onnx", paper, True, paper_metadata(71), True),
        ("seed_dynamo.onnx", seed, True, {}, False),
        ("seed_legacy.onnx", seed, False, {}, False),
        ("tiny.onnx", tiny, True, {}, False),
    ]
    inputs = {t: torch.randn(5, 12, t, generator=gen).numpy() for t in (250, 1000)}
    cases = []
    nets = {}
    for t, x in inputs.items():
        write_f32(f"input_t{t}.f32", x)
    for name, form, dynamo, metadata, strip in models:
        net = IncepSE(pool_2d=dynamo, **form)
        randomise_batch_norms(net, gen)
        net.eval()
        nets[name] = net
        path = FIXTURES / name
        export(net, path, dynamo, metadata, strip)
        for t, x in inputs.items():
            for batch in (1, 5):
                xb = x[:batch]
                expected = run_ort(path, xb)
                with torch.no_grad():
                    reference = net(torch.from_numpy(xb)).numpy()
                stem = name.removesuffix(".onnx")
                cases.append({
                    "model": name, "input": f"input_t{t}.f32", "batch": batch, "time": t,
                    "classes": int(expected.shape[1]),
                    "logits": write_f32(f"{stem}_t{t}_b{batch}.f32", expected),
                    "torch_vs_ort_max_abs": float(np.abs(reference - expected).max()),
                })
                print(f"{name} T={t} B={batch}: |torch - ort| max {cases[-1]['torch_vs_ort_max_abs']:.2e}, "
                      f"logits range {expected.min():.3f}..{expected.max():.3f}")
        print(f"{name}: {path.stat().st_size / 1e6:.2f} MB, {sum(p.numel() for p in net.parameters())} parameters")
    cases += sigmoid_cases(nets["tiny.onnx"], inputs)
    make_bad_files(FIXTURES / "tiny.onnx")
    index = {"generator": "tools/make_model_fixtures.py", "seed": args.seed, "torch": torch.__version__,
             "onnxruntime": ort.__version__, "cases": cases}
    (FIXTURES / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    assert all(math.isfinite(c["torch_vs_ort_max_abs"]) and c["torch_vs_ort_max_abs"] < 1e-4 for c in cases)
    assert all(c.get("sigmoid_of_logits_vs_ort_max_abs", 0) < 1e-6 for c in cases)


if __name__ == "__main__":
    main()
