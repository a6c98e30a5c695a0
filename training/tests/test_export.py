"""ONNX export: operators the engine has, dynamic axes, metadata, parity with ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from ecgtrain.export import (
    ENGINE_OPS,
    PARITY_TOLERANCE,
    ExportError,
    export_onnx,
    export_run,
    export_streaming_onnx,
    streaming_metadata,
)
from ecgtrain.model import StreamingIncepSE, causal_mean, decay_for, history_taps, truncated_causal_mean


def trained_like(classes: int) -> torch.nn.Module:
    """An IncepSE whose batch-norm statistics are no longer the identity, as after training."""
    from ecgtrain.model import IncepSE

    torch.manual_seed(0)
    model = IncepSE(classes).train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 12, 250) * 2 + 0.3)
    return model.eval()


def test_exports_only_engine_operators_with_dynamic_batch_and_time(tmp_path):
    model = trained_like(5)
    difference = export_onnx(model, tmp_path / "m.onnx", {"ecg.task": "superdiagnostic"})
    assert difference <= PARITY_TOLERANCE
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert {node.op_type for node in graph.node} <= ENGINE_OPS
    assert not {"Sigmoid"} - {node.op_type for node in graph.node}  # the SE gates; the head has none
    assert graph.node[-1].op_type == "Gemm"
    (source,) = graph.input
    assert source.name == "input"
    assert [d.dim_param or d.dim_value for d in source.type.tensor_type.shape.dim] == ["batch", 12, "time"]
    assert [output.name for output in graph.output] == ["logits"]


def test_metadata_is_written_and_onnx_runtime_agrees_at_any_length(tmp_path):
    model = trained_like(3)
    export_onnx(model, tmp_path / "m.onnx", {"ecg.task": "x", "ecg.sample_rate_hz": "100"})
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert props == {"ecg.task": "x", "ecg.sample_rate_hz": "100"}
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    window = np.random.default_rng(1).standard_normal((4, 12, 613)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(window)).numpy()
    assert np.abs(session.run(["logits"], {"input": window})[0] - expected).max() <= PARITY_TOLERANCE


class WithTanh(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x).mean(dim=2)


def test_an_operator_the_engine_lacks_fails_the_export_naming_it(tmp_path):
    with pytest.raises(ExportError, match="Tanh"):
        export_onnx(WithTanh(), tmp_path / "bad.onnx", {})


def test_alarm_operating_points_and_lead_masking_become_metadata_keys():
    import json

    from ecgtrain.export import metadata

    checkpoint = {
        "config": {"task": "all", "window_samples": 250},
        "preprocessing": {"mean": [0.0] * 12, "std": [1.0] * 12},
        "classes": ["AFIB", "INJAS"],
        "descriptions": ["atrial fibrillation", "subendocardial injury in anteroseptal leads"],
    }
    evaluation = {"thresholds": [0.2, 0.1], "provenance": {}}
    plain = metadata(checkpoint, evaluation)
    assert not {"ecg.alarm_thresholds", "ecg.alarm_rules", "ecg.alarm_budget", "ecg.lead_masking"} & set(plain)
    rule = {"window_seconds": 2.5, "hop_seconds": 0.5, "span_seconds": 10.0, "aggregation": "max", "confirm_count": 3}
    evaluation |= {
        "alarm": {
            "thresholds": {"AFIB": 0.612345678, "INJAS": 0.9},
            "budget": {"AFIB": 0.01, "INJAS": 0.005},
            "rule": rule,
            "criterion": "lowest threshold within the budget",
        },
        "lead_masking": True,
    }
    keys = metadata(checkpoint, evaluation)
    assert json.loads(keys["ecg.alarm_thresholds"]) == {"AFIB": 0.612346, "INJAS": 0.9}
    assert json.loads(keys["ecg.alarm_rules"]) == rule
    budget = json.loads(keys["ecg.alarm_budget"])
    assert budget["false_alarm_share"] == {"AFIB": 0.01, "INJAS": 0.005} and "fold 9" in budget["validation"]
    assert keys["ecg.lead_masking"] == "zero-standardized"


def test_a_streaming_model_exports_as_its_full_sequence_causal_graph(tmp_path):
    torch.manual_seed(0)
    model = StreamingIncepSE(classes=3, time_constant_samples=20)
    path = tmp_path / "streaming.onnx"
    difference = export_streaming_onnx(model, path, streaming_metadata(model, first_readout_samples=250))
    assert difference <= PARITY_TOLERANCE
    graph = onnx.load(str(path))
    metadata = {entry.key: entry.value for entry in graph.metadata_props}
    assert metadata["ecg.architecture"] == "IncepSE-streaming"
    streaming = json.loads(metadata["ecg.streaming"])
    assert streaming["time_constant_samples"] == 20 and streaming["first_readout_samples"] == 250
    assert streaming["history_taps"] == history_taps(model.decay)
    # logits at every sample, in ONNX Runtime as in PyTorch's exact pass, for a length the training never saw
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((1, 12, 777)).astype(np.float32)
    (logits,) = session.run(["logits"], {"input": x})
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert logits.shape == (1, 3, 777)
    assert np.abs(logits - expected).max() < 1e-5
    # every parameter under its PyTorch name, directly or as an Identity of an equal one
    names = {item.name for item in graph.graph.initializer}
    names |= {node.output[0] for node in graph.graph.node if node.op_type == "Identity"}
    assert {"inception.5.convs.0.weight", "shortcuts.1.1.running_var", "excitation.2.excite.bias"} <= names


def test_the_exported_running_mean_agrees_with_the_exact_one():
    x = torch.randn(2, 4, 3000, dtype=torch.float64)
    decay = decay_for(25)
    assert torch.allclose(truncated_causal_mean(x, decay), causal_mean(x, decay), atol=1e-6)


def test_operating_points_not_yet_in_the_evaluation_stop_the_export(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    torch.save({}, run / "best.pt")
    (run / "evaluation.json").write_text(json.dumps({"name": "m"}))
    (run / "operating-points.json").write_text("{}")
    with pytest.raises(ValueError, match="run evaluate again, then export"):
        export_run(run, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
