"""The committed model's ONNX weights loaded back into PyTorch reproduce ONNX Runtime's logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from ecgtrain.onnx_weights import calibrate_shortcuts, load_onnx


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
