"""IncepSE's shape and structure, and the causal preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from ecgtrain.model import IncepSE, Preprocessing, StreamingIncepSE, causal_mean, decay_for


@pytest.mark.parametrize("samples", [250, 1000, 37])
def test_maps_any_length_to_one_logit_per_class(samples):
    model = IncepSE(classes=5).eval()
    assert model(torch.zeros(3, 12, samples)).shape == (3, 5)


def test_has_the_papers_structure():
    model = IncepSE(classes=71)
    assert len(model.inception) == 6 and len(model.excitation) == 6 and len(model.shortcuts) == 2
    assert [conv.kernel_size[0] for conv in model.inception[0].convs] == [39, 19, 9]
    assert model.excitation[0].squeeze.out_features == 128 // 16
    assert model.head.in_features == 128


def test_squeeze_excite_only_rescales_channels():
    torch.manual_seed(0)
    model = IncepSE(classes=2).excitation[0]
    x = torch.rand(2, 128, 50) + 0.1
    ratio = model(x) / x
    # one gate per channel, constant over time, inside (0, 1)
    assert torch.allclose(ratio, ratio[:, :, :1].expand_as(ratio), atol=1e-6)
    assert ratio.min() > 0 and ratio.max() < 1


def test_standardize_uses_per_lead_training_statistics():
    rng = np.random.default_rng(0)
    records = rng.normal(size=(20, 12, 100)) * np.arange(1, 13)[None, :, None] + 0.5
    preprocessing = Preprocessing.fit(records, highpass_hz=None)
    assert np.allclose(preprocessing.std, np.std(records, axis=(0, 2)))
    out = preprocessing.apply(records)
    assert out.dtype == np.float32
    assert np.allclose(out.mean(axis=(0, 2)), 0, atol=1e-5) and np.allclose(out.std(axis=(0, 2)), 1, atol=1e-4)
    assert [step["op"] for step in preprocessing.steps()] == ["standardize"]


def test_highpass_is_causal_so_a_stream_can_replay_it(sample_data):
    millivolts = sample_data.signals[:2].astype(np.float64) / 1000
    preprocessing = Preprocessing.fit(millivolts, highpass_hz=0.5)
    whole = preprocessing.apply(millivolts)
    # the output up to a sample never depends on later samples
    assert np.allclose(preprocessing.apply(millivolts[..., :400]), whole[..., :400], atol=1e-6)
    sos = np.asarray(preprocessing.steps()[0]["sos"])
    expected = scipy.signal.butter(2, 0.5, btype="highpass", fs=100, output="sos")
    assert np.allclose(sos, expected) and sos[0, 3] == 1.0
    assert [step["op"] for step in preprocessing.steps()] == ["sos_filter", "standardize"]


def test_highpass_removes_a_constant_offset():
    preprocessing = Preprocessing(mean=[0.0] * 12, std=[1.0] * 12, sos=Preprocessing.highpass(0.5))
    out = preprocessing.apply(np.full((12, 2000), 3.0))
    assert np.abs(out[:, -200:]).max() < 1e-3


def test_causal_mean_is_the_normalised_exponential_recurrence_across_blocks():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 2600, dtype=torch.float64)
    decay = decay_for(250)
    running, weight, expected = torch.zeros(2, 3, dtype=torch.float64), 0.0, []
    for t in range(x.shape[-1]):
        running, weight = decay * running + x[..., t], decay * weight + 1
        expected.append(running / weight)
    assert torch.allclose(causal_mean(x, decay, block=1000), torch.stack(expected, dim=-1), atol=1e-12)
    # the first sample's mean is the sample itself: a stream's first readout is not pulled towards zero
    assert torch.allclose(causal_mean(x, decay)[..., 0], x[..., 0])


def test_decay_refuses_a_time_constant_below_one_sample():
    with pytest.raises(ValueError, match="at least one sample"):
        decay_for(0.5)


def test_streaming_logits_at_a_sample_ignore_every_later_sample():
    torch.manual_seed(0)
    model = StreamingIncepSE(classes=4, time_constant_samples=50).eval()
    x = torch.randn(2, 12, 400)
    changed = x.clone()
    changed[:, :, 300:] = torch.randn(2, 12, 100) * 5
    with torch.no_grad():
        logits, other = model(x), model(changed)
    assert logits.shape == (2, 4, 400)
    assert torch.allclose(logits[:, :, :300], other[:, :, :300], atol=1e-6)
    assert not torch.allclose(logits[:, :, 300:], other[:, :, 300:], atol=1e-3)


def test_streaming_model_takes_the_windowed_models_weights():
    windowed = IncepSE(classes=3)
    streaming = StreamingIncepSE(classes=3, time_constant_samples=250)
    streaming.load_state_dict(windowed.state_dict())
    assert streaming.state_dict().keys() == windowed.state_dict().keys()
