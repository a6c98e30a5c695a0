"""The command line end to end on the real samples: train, evaluate (thresholds, report, ROC), export."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from ecgtrain.cli import main
from ecgtrain.data import PtbXl


def save_small_dataset(sample_data: PtbXl, path) -> None:
    """The samples with 6 records moved to training (fold 1); the rest keep fold 9 (00008) or 10: every stage has
    records."""
    folds = sample_data.strat_fold.copy()
    folds[np.flatnonzero(folds == 10)[:6]] = 1
    data = PtbXl(sample_data.signals, sample_data.ecg_id, folds, sample_data.scp_codes, sample_data.statements,
                 sample_data.statements_csv)
    data.save(path)


def test_train_evaluate_export_end_to_end(sample_data, tmp_path):
    save_small_dataset(sample_data, tmp_path / "data.npz")
    run, models = tmp_path / "run", tmp_path / "models"
    main(["train", "--data", str(tmp_path / "data.npz"), "--out", str(run), "--task", "superdiagnostic",
          "--epochs", "1", "--batch-size", "3", "--highpass-hz", "0.5", "--no-progress"])
    main(["evaluate", "--data", str(tmp_path / "data.npz"), "--run", str(run), "--out", str(models),
          "--name", "tiny", "--budget", "1 epoch on CPU", "--compare", str(run)])
    main(["export", "--run", str(run), "--out", str(models / "tiny.onnx")])

    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["classes"] == ["CD", "HYP", "MI", "NORM", "STTC"]
    assert len(evaluation["thresholds"]) == 5
    report = (models / "tiny.md").read_text()
    assert "superdiagnostic" in report and "| CD |" in report and "1 epoch on CPU" in report
    assert "## Variants compared on fold 9" in report and report.count("| run | 0.5 Hz | none | 0 | 1 | 1 |") == 2
    assert (models / "tiny-roc.png").read_bytes()[:4] == b"\x89PNG"

    props = {p.key: p.value for p in onnx.load(str(models / "tiny.onnx")).metadata_props}
    assert props["ecg.task"] == "superdiagnostic" and props["ecg.window_samples"] == "250"
    assert [c["code"] for c in json.loads(props["ecg.classes"])] == evaluation["classes"]
    assert json.loads(props["ecg.leads"])[3] == "aVR" and props["ecg.units"] == "mV"
    steps = json.loads(props["ecg.preprocessing"])
    assert [s["op"] for s in steps] == ["sos_filter", "standardize"] and len(steps[1]["mean"]) == 12
    provenance = json.loads(props["ecg.provenance"])
    assert provenance["train_folds"] == [1, 2, 3, 4, 5, 6, 7, 8] and provenance["test_folds"] == [10]
    assert set(props) == {
        "ecg.format_version", "ecg.architecture", "ecg.task", "ecg.classes", "ecg.thresholds", "ecg.sample_rate_hz",
        "ecg.window_samples", "ecg.leads", "ecg.units", "ecg.preprocessing", "ecg.provenance",
    }


def test_a_streaming_run_is_evaluated_as_streamed_and_exported_as_streaming(sample_data, tmp_path):
    save_small_dataset(sample_data, tmp_path / "data.npz")
    run, models = tmp_path / "run", tmp_path / "models"
    main(["train", "--data", str(tmp_path / "data.npz"), "--out", str(run), "--task", "superdiagnostic",
          "--epochs", "1", "--batch-size", "3", "--architecture", "streaming", "--window-samples", "400",
          "--time-constant-samples", "100", "--no-progress"])
    main(["evaluate", "--data", str(tmp_path / "data.npz"), "--run", str(run), "--out", str(models),
          "--name", "stream"])
    main(["export", "--run", str(run), "--out", str(models / "stream.onnx")])

    evaluation = json.loads((run / "evaluation.json").read_text())
    assert set(evaluation["streaming"]["macro_auroc_by_seconds"]) == {"2.5", "5", "10"}
    assert "streamed from each record's first sample" in evaluation["provenance"]["metrics"]["evaluation"]
    assert "## Streaming" in (models / "stream.md").read_text()
    props = {p.key: p.value for p in onnx.load(str(models / "stream.onnx")).metadata_props}
    assert props["ecg.architecture"] == "IncepSE-streaming" and props["ecg.window_samples"] == "250"
    streaming = json.loads(props["ecg.streaming"])
    assert streaming["time_constant_samples"] == 100 and streaming["first_readout_samples"] == 250
    assert len(json.loads(props["ecg.thresholds"])) == 5


def test_missing_data_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", str(tmp_path / "absent.npz"), "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "absent.npz not found" in capsys.readouterr().err
