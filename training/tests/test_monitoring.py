"""The operating-points stage end to end on the real sample records with the committed model."""

from __future__ import annotations

from pathlib import Path

import json

import numpy as np

from ecgtrain.alarms import HIGH_PRIORITY_BUDGET
from ecgtrain.monitoring import operating_points, stress_subset
from ecgtrain.report_monitoring import monitoring_markdown



REPO = Path(__file__).resolve().parents[2]


def test_operating_points_are_fitted_measured_and_reported(sample_data, tmp_path):
    sample_data.save(tmp_path / "samples.npz")
    result = operating_points(
        tmp_path / "samples.npz",
        REPO / "models" / "ecg-incepse-all.onnx",
        tmp_path / "points.json",
        tmp_path / "cache",
        stresses=("clean", "emg6", "mask-V2"),
        alarm_set=("AFIB", "PVC", "INJAS"),
        masked_test=False,
    )
    written = json.loads((tmp_path / "points.json").read_text())
    assert set(written) == set(result) and written["thresholds"] == result["thresholds"]
    classes = result["classes"]
    assert len(result["thresholds"]) == len(classes) == 71
    assert result["budgets"][classes.index("INJAS")] == HIGH_PRIORITY_BUDGET
    # one fold-9 record: a budget below one record allows no false alarm, so none is raised there
    assert all(row["false_alarms"] == 0 for row in result["validation"])
    assert set(result["stress"]) == {"clean", "emg6", "mask-V2"}
    assert result["rule"] == {
        "window_seconds": 2.5, "hop_seconds": 0.5, "span_seconds": 10.0, "aggregation": "max", "confirm_count": 3
    }
    # scored windows are cached per model and stress: a second call scores nothing new
    cached = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert len(cached) == 5
    text = monitoring_markdown(result, result)
    assert "| AFIB |" in text and "previous model" in text and "muscle noise, 6 dB SNR" in text


def test_the_stress_subset_is_at_least_a_third_afib_and_fixed():
    classes = ["AFIB", "NORM"]
    labels = np.zeros((1000, 2), dtype=np.uint8)
    labels[::7, 0] = 1
    subset = stress_subset(labels, classes, size=300)
    assert len(subset) == 300 and len(set(subset)) == 300
    # a third drawn from AFIB, the rest at random from the remaining records, AFIB among them
    assert 100 < labels[subset, 0].sum() < 100 + 200 * 0.25
    assert np.array_equal(subset, stress_subset(labels, classes, size=300))
