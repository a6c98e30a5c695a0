"""Thresholds and sensitivity/specificity against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np

from ecgtrain.thresholds import FALLBACK_THRESHOLD, class_counts, fit_thresholds, youden_threshold


def test_youden_picks_the_cut_with_the_largest_sensitivity_plus_specificity():
    truth = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    # at 0.35: sens 4/4, spec 3/4 -> J 0.75; at 0.6: sens 3/4, spec 4/4 -> J 0.75 (tie: the higher cut wins);
    # at 0.4: sens 3/4, spec 3/4 -> 0.5
    assert youden_threshold(truth, score) == 0.6


def test_youden_on_separable_scores_lies_between_the_classes():
    truth = np.array([0, 0, 1, 1])
    assert youden_threshold(truth, np.array([0.1, 0.2, 0.8, 0.9])) == 0.8


def test_a_class_without_positives_gets_the_fallback_and_is_flagged():
    labels = np.array([[0, 1], [0, 0], [0, 1]])
    probabilities = np.array([[0.2, 0.9], [0.3, 0.1], [0.4, 0.7]])
    thresholds, fitted = fit_thresholds(labels, probabilities)
    assert thresholds == [FALLBACK_THRESHOLD, 0.7] and fitted == [False, True]


def test_counts_call_a_class_present_at_or_above_its_threshold():
    labels = np.array([[1], [1], [0], [0], [1]])
    probabilities = np.array([[0.5], [0.2], [0.5], [0.1], [0.9]])
    (counts,) = class_counts(labels, probabilities, [0.5])
    assert (counts.true_positives, counts.false_negatives, counts.true_negatives, counts.false_positives) == (
        2, 1, 1, 1,
    )
    assert counts.sensitivity == 2 / 3 and counts.specificity == 1 / 2


def test_rates_without_cases_are_nan_not_an_error():
    (counts,) = class_counts(np.array([[0], [0]]), np.array([[0.1], [0.9]]), [0.5])
    assert math.isnan(counts.sensitivity) and counts.specificity == 0.5
