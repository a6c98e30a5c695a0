"""The committed model's ONNX weights loaded back into PyTorch reproduce ONNX Runtime's logits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from ecgtrain.export import export_streaming_onnx, streaming_metadata
from ecgtrain.model import StreamingIncepSE
from ecgtrain.onnx_weights import calibrate_shortcuts, load_onnx, load_streaming_onnx
from ecgtrain.stress import OnnxScorer


REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "ecg-incepse-all.onnx"


@pytest.fixture(scope="module")
def loaded():
    return load_onnx(MODEL)


@pytest.fixture(scope="module")
def windows(sample_data, loaded) -> np.ndarray:
    """Preprocessed 2.5 s windows of the real sample records: `[11][12][250]`."""
    millivolts = sample_data.signals[:, :, 100:350].astype(np.float32) / 1000.0
    return loaded.preprocessing.apply(millivolts)


def onnx_runtime_logits(inputs: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": inputs})[0]


def test_the_loaded_network_reproduces_onnx_runtime(loaded, windows):
    with torch.no_grad():
        logits = loaded.model.eval()(torch.from_numpy(windows)).numpy()
    assert np.abs(logits - onnx_runtime_logits(windows)).max() <= 1e-4
    assert loaded.classes[:3] == ["1AVB", "2AVB", "3AVB"] and len(loaded.classes) == 71
    assert len(loaded.preprocessing.mean) == 12


def test_calibrating_the_shortcuts_keeps_the_function_and_matches_batch_statistics(windows):
    model = load_onnx(MODEL).model
    inputs = torch.from_numpy(windows)
    calibrate_shortcuts(model, inputs)
    with torch.no_grad():
        assert np.abs(model.eval()(inputs).numpy() - onnx_runtime_logits(windows)).max() <= 1e-4
        # in training mode the shortcut BatchNorms normalise by these same statistics: their output is unchanged
        outputs = []
        hook = model.shortcuts[0][1].register_forward_hook(lambda _m, _i, output: outputs.append(output))
        model.train()(inputs)
        model.eval()(inputs)
        hook.remove()
    assert torch.allclose(outputs[0], outputs[1], atol=1e-4)


def test_a_graph_of_another_shape_is_refused_naming_the_tensor(tmp_path):
    from ecgtrain.export import export_onnx
    from ecgtrain.model import IncepSE

    other = IncepSE(5, filters=16).eval()
    metadata = {"ecg.classes": '[{"code": "A", "description": "a"}]' , "ecg.preprocessing": '[{"op": "standardize", "mean": [0], "std": [1]}]'}
    export_onnx(other, tmp_path / "other.onnx", metadata)
    with pytest.raises(ValueError, match="shape"):
        load_onnx(tmp_path / "other.onnx")


def test_a_streaming_file_loads_back_and_scores_its_readouts_as_onnx_runtime(tmp_path):
    torch.manual_seed(3)
    model = StreamingIncepSE(classes=4, time_constant_samples=30).eval()
    path = tmp_path / "streaming.onnx"
    metadata = {
        "ecg.classes": json.dumps([{"code": f"C{i}", "description": ""} for i in range(4)]),
        "ecg.preprocessing": json.dumps([{"op": "standardize", "mean": [0.0] * 12, "std": [1.0] * 12}]),
    }
    export_streaming_onnx(model, path, metadata | streaming_metadata(model, first_readout_samples=250))
    loaded = load_streaming_onnx(path)
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name
    inputs = np.random.default_rng(0).standard_normal((2, 12, 600)).astype(np.float32)
    probabilities = OnnxScorer(path).window_probabilities(inputs, 250, 50)
    (logits,) = onnxruntime.InferenceSession(str(path)).run(["logits"], {"input": inputs})
    expected = 1 / (1 + np.exp(-logits[:, :, 249::50].astype(np.float64)))
    assert probabilities.shape == (2, 8, 4)
    assert np.abs(probabilities - expected.transpose(0, 2, 1)).max() < 1e-5
