"""The EC57-style QRS scorer (tools/score_qrs.py) on synthetic annotation pairs with known answers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import wfdb

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("score_qrs", REPO / "tools" / "score_qrs.py")
score_qrs = importlib.util.module_from_spec(_spec)
sys.modules["score_qrs"] = score_qrs  # dataclasses look their module up there
_spec.loader.exec_module(score_qrs)

FS = 360
START = 300 * FS  # the first 5 minutes are not scored
END = 400 * FS


def beats(first: int = START, last: int = END, step: int = FS) -> np.ndarray:
    return np.arange(first, last, step)


def score(reference: np.ndarray, detections: np.ndarray, symbols=None, aux=None) -> score_qrs.RecordScore:
    symbols = symbols or ["N"] * len(reference)
    aux = aux or [""] * len(reference)
    return score_qrs.score_arrays("r", FS, np.asarray(reference), symbols, aux, np.asarray(detections), END)


def test_identical_annotations_score_perfectly():
    result = score(beats(), beats())
    assert (result.false_negatives, result.false_positives) == (0, 0)
    assert result.sensitivity == result.positive_predictivity == 1.0


def test_detections_match_within_150_ms_and_not_beyond():
    near = score(beats(), beats() + int(0.149 * FS))
    far = score(beats(), beats() + int(0.160 * FS))
    assert (near.false_negatives, near.false_positives) == (0, 0)
    assert far.true_positives == 0 and far.false_negatives == far.reference_beats == far.false_positives


def test_the_first_five_minutes_are_not_scored():
    reference = beats(first=0)
    detections = beats(first=0)[reference >= START]
    extra = np.array([10 * FS + 100, 20 * FS + 100])
    result = score(reference, np.concatenate([extra, detections]))
    assert result.reference_beats == len(beats())
    assert (result.false_negatives, result.false_positives) == (0, 0)


def test_a_double_detection_is_one_false_positive_and_a_miss_one_false_negative():
    reference = beats()
    detections = np.sort(np.concatenate([reference[1:], [reference[5] + int(0.3 * FS)]]))
    result = score(reference, detections)
    assert (result.false_negatives, result.false_positives) == (1, 1)


def test_ventricular_flutter_episodes_are_left_out():
    reference = list(beats())
    symbols = ["N"] * len(reference)
    aux = [""] * len(reference)
    # A [ … ] fibrillation episode and a (VFL rhythm episode ended by a (N rhythm annotation.
    markers = [(320 * FS + 10, "[", ""), (330 * FS + 10, "]", ""), (350 * FS + 10, "+", "(VFL"),
               (360 * FS + 10, "+", "(N")]
    for sample, symbol, note in markers:
        reference.append(sample)
        symbols.append(symbol)
        aux.append(note)
    order = np.argsort(reference, kind="stable")
    reference = np.asarray(reference)[order]
    symbols = [symbols[i] for i in order]
    aux = [aux[i] for i in order]
    noise = np.array([325 * FS + 180, 355 * FS + 180])  # detections inside the episodes
    missed = {322 * FS, 352 * FS}  # reference beats inside the episodes, not detected
    detections = np.array(sorted(set(beats()) - missed | set(noise.tolist())))
    result = score(reference, detections, symbols, aux)
    assert (result.false_negatives, result.false_positives) == (0, 0)
    assert result.reference_beats == len(beats()) - 20


def test_the_command_line_reads_wfdb_annotation_files(tmp_path, capsys):
    signal = np.zeros((END, 1))
    wfdb.wrsamp("r", fs=FS, units=["mV"], sig_name=["II"], p_signal=signal, fmt=["16"], write_dir=str(tmp_path))
    reference = beats()
    wfdb.wrann("r", "atr", reference, symbol=["N"] * len(reference), write_dir=str(tmp_path))
    detections = np.delete(reference, [3, 4])
    wfdb.wrann("r", "qrs", detections, symbol=["N"] * len(detections), write_dir=str(tmp_path))
    assert score_qrs.main(["--reference-dir", str(tmp_path), "--test-dir", str(tmp_path), "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)
    assert totals["false_negatives"] == 2 and totals["false_positives"] == 0
    assert totals["true_positives"] == len(reference) - 2
