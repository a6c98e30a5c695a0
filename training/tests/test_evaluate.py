"""Windowing, max aggregation, macro AUROC and the ROC plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgtrain.evaluate import (
    class_aurocs,
    macro_auroc,
    plot_roc,
    predict_records,
    predict_streams,
    readout_samples,
    window_starts,
)


def test_a_ten_second_record_gives_seven_benchmark_windows():
    assert window_starts(1000, 250, 125) == [0, 125, 250, 375, 500, 625, 750]
    with pytest.raises(ValueError, match="shorter"):
        window_starts(200, 250, 125)


class WindowMean(torch.nn.Module):
    """Logits: the mean of lead 0 and minus the mean of lead 1 over the window."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x[:, 0].mean(dim=1), -x[:, 1].mean(dim=1)], dim=1)


def test_record_probability_is_the_maximum_over_windows():
    record = torch.zeros(1, 12, 1000)
    record[0, 0, 500:750] = 4.0  # only the window starting at 500 sees all of it
    record[0, 1, :] = torch.linspace(-1, 1, 1000)
    probabilities = predict_records(WindowMean(), record, 250, 125, batch_windows=3)
    lead1 = record[0, 1].numpy()
    expected = [1 / (1 + math.exp(-4.0)), 1 / (1 + math.exp(lead1[0:250].mean()))]
    assert probabilities.shape == (1, 2)
    assert np.allclose(probabilities[0], expected, atol=1e-6)


def test_macro_auroc_averages_the_classes_that_have_both_labels():
    labels = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]])
    probabilities = np.array([[0.9, 0.1, 0.2], [0.1, 0.2, 0.6], [0.4, 0.3, 0.4], [0.5, 0.4, 0.8]])
    # class 0: positives 0.9, 0.4 vs negatives 0.1, 0.5 -> 3 of 4 pairs ordered -> 0.75
    # class 1: no positive -> undefined; class 2: positives 0.2, 0.6 vs 0.4, 0.8 -> 1 of 4 -> 0.25
    aurocs = class_aurocs(labels, probabilities)
    assert aurocs[0] == 0.75 and math.isnan(aurocs[1]) and aurocs[2] == 0.25
    assert macro_auroc(labels, probabilities) == 0.5


def test_roc_plot_is_a_small_png(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(50, 3))
    plot_roc(labels, rng.random((50, 3)), ["A", "B", "C"], "test", tmp_path / "roc.png")
    data = (tmp_path / "roc.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 100_000


def test_a_ten_second_stream_is_read_every_half_second_from_two_and_a_half():
    assert readout_samples(1000, 250, 50) == list(range(249, 1000, 50))
    assert len(readout_samples(1000, 250, 50)) == 16
    with pytest.raises(ValueError, match="shorter"):
        readout_samples(200, 250, 50)


class RunningSample(torch.nn.Module):
    """Streaming logits: lead 0 itself at every sample, one class."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1]


def test_stream_probability_is_the_maximum_over_readouts_only():
    record = torch.zeros(1, 12, 1000)
    record[0, 0, 100] = 9.0  # before the first readout: never read
    record[0, 0, 499] = 2.0  # a readout
    record[0, 0, 500] = 5.0  # between readouts
    probability = predict_streams(RunningSample(), record, 250, 50)
    assert probability.shape == (1, 1)
    assert probability[0, 0] == pytest.approx(1 / (1 + math.exp(-2.0)))
