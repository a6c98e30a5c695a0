"""The daemon's alarm rule on scripted probability sequences, and thresholds fitted through it to a budget."""

from __future__ import annotations

import numpy as np
import pytest

from ecgtrain.alarms import (
    AlarmRule,
    aggregates,
    alarm_counts,
    alarm_scores,
    any_alarm_share,
    fit_threshold,
    first_raise,
    round_up,
    wilson_interval,
)

RULE = AlarmRule()


def raise_at(sequence, threshold: float) -> int:
    return int(first_raise(aggregates(np.array(sequence, dtype=float), RULE), threshold, RULE.confirm_count))


def test_a_finding_present_from_the_start_raises_at_the_third_evaluation():
    # evaluation 2 is the third window, ending at 2.5 s + 2 × 0.5 s = 3.5 s of stream time
    assert raise_at([0.9] * 16, 0.5) == 2


def test_one_high_window_is_held_by_the_max_over_the_span_and_raises_two_evaluations_later():
    sequence = [0.1] * 16
    sequence[5] = 0.8
    assert raise_at(sequence, 0.5) == 7


def test_a_high_window_too_late_in_a_ten_second_record_raises_nothing():
    for late in (14, 15):
        sequence = [0.1] * 16
        sequence[late] = 0.8
        assert raise_at(sequence, 0.5) == -1
    sequence = [0.1] * 16
    sequence[13] = 0.8
    assert raise_at(sequence, 0.5) == 15


def test_below_the_threshold_never_raises_and_equal_counts_as_reaching_it():
    assert raise_at([0.49] * 16, 0.5) == -1
    assert raise_at([0.5] * 16, 0.5) == 2


def test_a_window_leaves_the_span_when_it_starts_more_than_ten_seconds_before_the_newest_end():
    # window k spans [0.5 k, 0.5 k + 2.5] s; the first window is inside the 10 s span up to k = 15 and leaves at 16
    sequence = np.zeros(20)
    sequence[0] = 1.0
    assert aggregates(sequence, RULE).tolist() == [1.0] * 16 + [0.0] * 4


def test_the_alarm_score_is_exactly_the_highest_threshold_that_raises():
    rng = np.random.default_rng(0)
    probabilities = rng.random((3000, 24)) ** 3
    aggregated = aggregates(probabilities, RULE)
    scores = alarm_scores(aggregated, RULE.confirm_count)
    for threshold in (0.05, 0.3, 0.6, 0.9):
        raised = first_raise(aggregated, np.full(len(scores), threshold), RULE.confirm_count) >= 0
        assert np.array_equal(raised, scores >= threshold)
    # on a 10 s record (16 windows) the rule reduces to the max over the first 14 windows
    ten_seconds = probabilities[:, :16]
    assert np.array_equal(alarm_scores(aggregates(ten_seconds, RULE), 3), ten_seconds[:, :14].max(axis=1))


def test_a_sequence_shorter_than_the_confirmation_never_raises():
    assert alarm_scores(np.array([0.9, 0.9]), 3) == -np.inf


def test_the_fitted_threshold_is_the_lowest_within_the_budget():
    # 100 records: 10 with the class (all at 0.5), 90 without, three of which score high
    scores = np.concatenate([np.full(10, 0.5), [0.9, 0.8, 0.7], np.linspace(0.0, 0.3, 87)])
    truth = np.arange(100) < 10
    threshold = fit_threshold(scores, truth, budget=0.02)
    assert threshold == 0.700001
    false_alarms = ((scores >= threshold) & ~truth).sum()
    assert false_alarms == 2
    assert ((scores >= round(threshold - 2e-6, 6)) & ~truth).sum() == 3  # any lower breaks the budget
    assert fit_threshold(scores, truth, budget=0.0) == 0.900001
    assert fit_threshold(scores, truth, budget=1.0) == 0.0


def test_thresholds_round_up_to_six_significant_digits():
    assert round_up(0.123456) == 0.123457
    assert round_up(0.1234561) == 0.123457
    assert round_up(2.5e-5) == 2.50001e-5
    assert round_up(0.99999999) == 1.0


def test_counts_sensitivity_and_false_alarms_at_the_threshold():
    scores = np.array([[0.9], [0.6], [0.2], [0.7], [0.1]])
    labels = np.array([[1], [1], [1], [0], [0]])
    (row,) = alarm_counts(scores, labels, [0.5])
    assert (row["positives"], row["detected"], row["false_alarms"]) == (3, 2, 1)
    assert row["sensitivity"] == pytest.approx(2 / 3) and row["false_alarm_share"] == pytest.approx(0.2)
    assert any_alarm_share(scores, [0.5], [0], np.array([False, False, True, True, True])) == pytest.approx(1 / 3)


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) != wilson_interval(0, 0)  # NaN: no trials
