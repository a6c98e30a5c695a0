"""Loading the real PTB-XL samples and the benchmark's label tasks."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED, SAMPLES
from ecgtrain.data import LEADS, TASKS, DataError, PtbXl, label_matrix, parse_scp_codes, read_record, task_classes


@pytest.mark.parametrize(
    ("task", "count"),
    [("all", 71), ("diagnostic", 44), ("subdiagnostic", 23), ("superdiagnostic", 5), ("form", 19), ("rhythm", 12)],
)
def test_task_has_the_benchmark_class_count(statements, task, count):
    assert len(task_classes(statements, task)) == count


def test_tasks_cover_every_statement_as_the_benchmark_splits_them(statements):
    diagnostic, form, rhythm = (set(task_classes(statements, task)) for task in ("diagnostic", "form", "rhythm"))
    assert diagnostic | form | rhythm == set(task_classes(statements, "all"))
    assert not rhythm & (diagnostic | form)
    assert task_classes(statements, "superdiagnostic") == ["CD", "HYP", "MI", "NORM", "STTC"]


def test_unknown_task_is_an_error_naming_it(statements):
    with pytest.raises(DataError, match="'bogus'"):
        task_classes(statements, "bogus")


def test_reads_a_record_as_microvolts_in_lead_order():
    signal = read_record(SAMPLES / "00008_lr")
    assert signal.shape == (12, 1000) and signal.dtype == np.int16
    # limb leads are derived: III = II - I within rounding, which only holds if the lead order is right
    iii = signal[1].astype(int) - signal[0].astype(int)
    assert np.abs(signal[2] - iii).max() <= 3
    assert len(LEADS) == 12


def test_a_record_at_another_rate_is_refused_with_its_path():
    with pytest.raises(DataError, match="500 Hz"):
        read_record(SHARED / "ecg-samples" / "ECGClassification_PTBXL" / "00008_hr")


def test_superdiagnostic_labels_match_the_samples_superclass(sample_data, sample_labels):
    classes, labels = label_matrix(sample_data.scp_codes, sample_data.statements, "superdiagnostic")
    for row, expected in zip(labels, sample_labels.superclass.fillna("")):
        assert {classes[i] for i in np.flatnonzero(row)} == ({expected} if expected else set())


def test_all_labels_are_every_scp_code_regardless_of_likelihood(sample_data):
    classes, labels = label_matrix(sample_data.scp_codes, sample_data.statements, "all")
    for row, text in zip(labels, sample_data.scp_codes):
        assert {classes[i] for i in np.flatnonzero(row)} == set(parse_scp_codes(text))


def test_split_leaves_out_records_without_a_label_of_the_task(sample_data):
    test = sample_data.split("superdiagnostic", (10,))
    assert 8215 not in test.ecg_id  # AFIB only: a rhythm statement, no diagnostic class
    assert len(test.ecg_id) == 9 and test.labels.sum(axis=1).min() == 1
    assert 8215 in sample_data.split("rhythm", (10,)).ecg_id


def test_folds_are_never_mixed(sample_data):
    assert list(sample_data.split("all", (9,)).ecg_id) == [8]
    assert 8 not in sample_data.split("all", (10,)).ecg_id


def test_malformed_scp_codes_are_an_error():
    with pytest.raises(DataError, match="not a dict"):
        parse_scp_codes("['NORM']")


def test_saved_arrays_load_back_identically(sample_data, tmp_path):
    sample_data.save(tmp_path / "data.npz")
    loaded = PtbXl.load(tmp_path / "data.npz")
    assert np.array_equal(loaded.signals, sample_data.signals)
    assert loaded.scp_codes == sample_data.scp_codes
    assert np.array_equal(loaded.strat_fold, sample_data.strat_fold)
    assert all(task_classes(loaded.statements, t) == task_classes(sample_data.statements, t) for t in TASKS)


def test_missing_arrays_name_the_command_to_run(tmp_path):
    with pytest.raises(DataError, match="prepare"):
        PtbXl.load(tmp_path / "absent.npz")
