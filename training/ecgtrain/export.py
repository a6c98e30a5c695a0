"""ONNX export with the `ecg.*` metadata of docs/model-format.md and a parity check against ONNX Runtime.

The graph is written by `torch.onnx.export` (TorchScript tracing, opset 18; the dynamo path specialises the time
axis of this model), with input `input` `[batch][12][time]` and output `logits` `[batch][classes]`, both dynamic in
batch and time. Only operators the daemon's engine implements may appear; any other fails the export.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from .data import LEADS, SAMPLE_RATE_HZ
from .model import IncepSE, StreamingIncepSE, history_taps

OPSET = 18
FORMAT_VERSION = "1"
# how the model was trained to see a lead that is off: its standardised input set to 0 (docs/model-format.md)
LEAD_MASKING = "zero-standardized"
PARITY_TOLERANCE = 1e-5
ENGINE_OPS = frozenset(
    {
        "Conv", "BatchNormalization", "Relu", "MaxPool", "Concat", "GlobalAveragePool", "ReduceMean", "Gemm",
        "MatMul", "Sigmoid", "Mul", "Add", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout",
        "Constant",
    }
)
# shapes the parity check runs: several batch sizes and lengths, the training window among them
PARITY_SHAPES = ((1, 250), (3, 250), (2, 1000), (1, 137))


class ExportError(Exception):
    """The exported graph uses an operator the engine lacks, or disagrees with PyTorch beyond the tolerance."""


def export_onnx(model: IncepSE, path: str | Path, metadata: dict[str, str]) -> float:
    """Writes `model` as ONNX with `metadata` in `metadata_props`, then checks it against ONNX Runtime.

    - Returns: the largest absolute logit difference between PyTorch and ONNX Runtime over `PARITY_SHAPES`.
    - Throws: `ExportError` when an operator is outside `ENGINE_OPS` or the difference exceeds `PARITY_TOLERANCE`.
    """
    model = model.eval().cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, len(LEADS), 250)
    torch.onnx.export(
        model,
        (example,),
        str(path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch", 2: "time"}, "logits": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    graph = onnx.load(str(path))
    unsupported = sorted({node.op_type for node in graph.graph.node} - ENGINE_OPS)
    if unsupported:
        raise ExportError(f"the graph uses operators the engine lacks: {unsupported}")
    for key, value in metadata.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))
    difference = parity(model, path)
    if not difference <= PARITY_TOLERANCE:
        raise ExportError(f"ONNX Runtime differs from PyTorch by {difference:.3g} (> {PARITY_TOLERANCE:g})")
    return difference


# a streaming graph's reference lengths: one sample, the first readout, and enough to leave the cut history behind
STREAMING_PARITY_SHAPES = ((1, 1), (2, 250), (1, 1500))
STREAMING_ARCHITECTURE = "IncepSE-streaming"
# the exported running means add thousands of float32 products per sample (4,022 taps at a 2.5 s time constant):
# ONNX Runtime's rounding then reaches ~1e-5 of a logit, so the graph is held to the streaming engine's own bound
STREAMING_PARITY_TOLERANCE = 1e-4


def export_streaming_onnx(model: StreamingIncepSE, path: str | Path, metadata: dict[str, str]) -> float:
    """Writes a streaming model as the full-sequence causal graph: `input` `[batch][12][time]` → `logits`
    `[batch][classes][time]`, the logits at every sample, for ONNX Runtime to serve as the reference of the
    daemon's streaming executor.

    Constant folding is off, so every parameter keeps its PyTorch name (`inception.0.convs.1.weight`,
    `shortcuts.0.1.running_var`, …): the executor reads the weights by those names and the structure from the
    `ecg.architecture` and `ecg.streaming` metadata (docs/model-format.md). The running means are written as
    causal convolutions cut after `history_taps` samples (`truncated_causal_mean`).
    - Returns: the largest absolute logit difference between PyTorch's exact pass and ONNX Runtime.
    - Throws: `ExportError` when that difference exceeds `STREAMING_PARITY_TOLERANCE`.
    """
    model = model.eval().cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.exporting = True
    try:
        torch.onnx.export(
            model,
            (torch.zeros(1, len(LEADS), 250),),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch", 2: "time"}, "logits": {0: "batch", 2: "time"}},
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=False,
        )
    finally:
        model.exporting = False
    graph = onnx.load(str(path))
    names = {item.name for item in graph.graph.initializer}
    # the exporter writes a tensor equal to an earlier one as an Identity of it: such names count as present
    names |= {node.output[0] for node in graph.graph.node if node.op_type == "Identity" and node.input[0] in names}
    needed = {name for name in model.state_dict() if not name.endswith("num_batches_tracked")}
    missing = sorted(needed - names)
    if missing:
        raise ExportError(f"the graph lost the names of {missing[:3]}… ({len(missing)} parameters)")
    # the exporter annotates nodes with source locations of the exporting machine: no part of a model file
    for node in graph.graph.node:
        node.doc_string = ""
        del node.metadata_props[:]
    del graph.graph.value_info[:]
    for key, value in metadata.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))
    difference = parity(model, path, shapes=STREAMING_PARITY_SHAPES)
    if not difference <= STREAMING_PARITY_TOLERANCE:
        raise ExportError(f"ONNX Runtime differs from PyTorch by {difference:.3g} (> {STREAMING_PARITY_TOLERANCE:g})")
    return difference


def streaming_metadata(model: StreamingIncepSE, first_readout_samples: int) -> dict[str, str]:
    """The keys that say a model streams (docs/model-format.md, "Streaming models")."""
    return {
        "ecg.architecture": STREAMING_ARCHITECTURE,
        "ecg.window_samples": str(first_readout_samples),
        "ecg.streaming": json.dumps(
            {
                "time_constant_samples": model.time_constant_samples,
                "first_readout_samples": first_readout_samples,
                "history_taps": history_taps(model.decay),
                "logits": "every sample",
            }
        ),
    }


def parity(model: IncepSE, path: str | Path, seed: int = 0, shapes=PARITY_SHAPES) -> float:
    """Largest absolute logit difference between PyTorch and ONNX Runtime (CPU) over `shapes`."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = np.random.default_rng(seed)
    worst = 0.0
    for batch, samples in shapes:
        window = generator.standard_normal((batch, len(LEADS), samples)).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(window)).numpy()
        (actual,) = session.run(["logits"], {"input": window})
        worst = max(worst, float(np.abs(actual - expected).max()))
    return worst


def metadata(checkpoint: dict, evaluation: dict) -> dict[str, str]:
    """The `ecg.*` keys for a trained run, from its best checkpoint and its evaluation."""
    from .model import Preprocessing

    config = checkpoint["config"]
    preprocessing = Preprocessing(**checkpoint["preprocessing"])
    classes = [
        {"code": code, "description": description}
        for code, description in zip(checkpoint["classes"], checkpoint["descriptions"])
    ]
    keys = {
        "ecg.format_version": FORMAT_VERSION,
        "ecg.architecture": "IncepSE",
        "ecg.task": config["task"],
        "ecg.classes": json.dumps(classes),
        # six significant digits: rare classes have thresholds far below 1e-3
        "ecg.thresholds": json.dumps([float(f"{t:.6g}") for t in evaluation["thresholds"]]),
        "ecg.sample_rate_hz": str(SAMPLE_RATE_HZ),
        "ecg.window_samples": str(config["window_samples"]),
        "ecg.leads": json.dumps(list(LEADS)),
        "ecg.units": "mV",
        "ecg.preprocessing": json.dumps(preprocessing.steps()),
        "ecg.provenance": json.dumps(evaluation["provenance"]),
    }
    if "alarm" in evaluation:
        alarm = evaluation["alarm"]
        keys["ecg.alarm_thresholds"] = json.dumps({code: float(f"{t:.6g}") for code, t in alarm["thresholds"].items()})
        keys["ecg.alarm_rules"] = json.dumps(alarm["rule"])
        keys["ecg.alarm_budget"] = json.dumps(
            {"criterion": alarm["criterion"], "validation": "PTB-XL 1.0.3 fold 9", "false_alarm_share": alarm["budget"]}
        )
    if evaluation.get("lead_masking"):
        keys["ecg.lead_masking"] = LEAD_MASKING
    return keys


def export_run(run: str | Path, out: str | Path) -> float:
    """Exports a run folder's best checkpoint with its evaluation (written by the `evaluate` command)."""
    run = Path(run)
    for name in ("best.pt", "evaluation.json"):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run / name} not found: train and evaluate the run first")
    evaluation = json.loads((run / "evaluation.json").read_text())
    from .report import OPERATING_POINTS
    from .train import model_from_checkpoint

    # the alarm thresholds reach the file through the evaluation: exporting between `operating-points` and the
    # second `evaluate` would ship a model without them, and the daemon would fall back to Youden's thresholds
    if (run / OPERATING_POINTS).is_file() and "alarm" not in evaluation:
        raise ValueError(
            f"{run / OPERATING_POINTS} is not in {run / 'evaluation.json'} yet: run evaluate again, then export"
        )
    checkpoint = torch.load(run / "best.pt", map_location="cpu", weights_only=True)
    model = model_from_checkpoint(checkpoint)
    if isinstance(model, StreamingIncepSE):
        keys = metadata(checkpoint, evaluation) | streaming_metadata(
            model, first_readout_samples=checkpoint["config"]["readout_first_samples"]
        )
        difference = export_streaming_onnx(model, out, keys)
    else:
        difference = export_onnx(model, out, metadata(checkpoint, evaluation))
    size_mib = Path(out).stat().st_size / 2**20
    tolerance = STREAMING_PARITY_TOLERANCE if isinstance(model, StreamingIncepSE) else PARITY_TOLERANCE
    print(f"{out}: {size_mib:.2f} MiB, ONNX Runtime parity {difference:.2e} (tolerance {tolerance:g})")
    return difference
