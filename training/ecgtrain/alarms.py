"""The daemon's finding-alarm rule over per-window probabilities, and operating points fitted through it.

The rule (docs/alarms.md): windows of 2.5 s every 0.5 s from the start of a stream; each classified window is one
evaluation; the aggregate of an evaluation is the largest probability among the windows that lie entirely within the
last 10 s (window start ≥ newest window end − 10 s); an alarm is raised after 3 consecutive evaluations with
aggregate ≥ threshold. A 10 s record gives 16 windows (starts 0, 0.5, …, 7.5 s), every one inside the span of the
last, so its aggregate is the running maximum and it raises iff a window among the first 14 reaches the threshold.

Operating points are chosen for alarms, not for the record-level ROC: per class, the lowest threshold at which the
validation records *without* that class that raise its alarm stay within a false-alarm budget, a share of all the
fold's records.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .data import SAMPLE_RATE_HZ

# false-alarm budgets, as a share of all validation records: classes a monitor would raise at high priority (acute
# injury, complete heart block) get half the budget of the others
HIGH_PRIORITY_BUDGET = 0.005
DEFAULT_BUDGET = 0.01
HIGH_PRIORITY_CLASSES = ("INJAS", "INJAL", "INJIN", "INJLA", "INJIL", "STE_", "3AVB")
# significant digits of a threshold in the metadata; fitted values are rounded up so the budget still holds
THRESHOLD_DIGITS = 6


@dataclass(frozen=True)
class AlarmRule:
    """The daemon's default finding-alarm settings (config/ecg-monitor.yaml `alarms`), at the model's rate."""

    window_samples: int = 250
    hop_samples: int = 50
    span_seconds: float = 10.0
    confirm_count: int = 3
    aggregation: str = "max"

    def metadata(self) -> dict:
        """The `ecg.alarm_rules` value (docs/model-format.md)."""
        return {
            "window_seconds": self.window_samples / SAMPLE_RATE_HZ,
            "hop_seconds": self.hop_samples / SAMPLE_RATE_HZ,
            "span_seconds": self.span_seconds,
            "aggregation": self.aggregation,
            "confirm_count": self.confirm_count,
        }

    def as_dict(self) -> dict:
        return asdict(self)


def aggregates(probabilities: np.ndarray, rule: AlarmRule) -> np.ndarray:
    """The aggregate at every evaluation of windows `[..., windows]` taken from the start of a stream every
    `rule.hop_samples`: the max over the windows that lie within the `rule.span_seconds` ending with the newest."""
    if rule.aggregation != "max":
        raise ValueError(f"aggregation '{rule.aggregation}' is not supported; the operating points assume max")
    probabilities = np.asarray(probabilities)
    count = probabilities.shape[-1]
    starts = np.arange(count) * rule.hop_samples
    span = rule.span_seconds * SAMPLE_RATE_HZ
    result = np.empty_like(probabilities)
    for newest in range(count):
        inside = starts[: newest + 1] >= starts[newest] + rule.window_samples - span
        result[..., newest] = probabilities[..., : newest + 1][..., inside].max(axis=-1)
    return result


def first_raise(aggregated: np.ndarray, threshold, confirm_count: int) -> np.ndarray:
    """The evaluation at which the alarm is raised, per sequence of aggregates `[..., evaluations]` (−1: never):
    the rule stepped evaluation by evaluation, counting consecutive aggregates ≥ `threshold` (broadcast)."""
    aggregated = np.asarray(aggregated)
    above = aggregated >= np.asarray(threshold)[..., None]
    streak = np.zeros(above.shape[:-1], dtype=np.int64)
    raised = np.full(above.shape[:-1], -1, dtype=np.int64)
    for index in range(above.shape[-1]):
        streak = np.where(above[..., index], streak + 1, 0)
        raised = np.where((raised < 0) & (streak >= confirm_count), index, raised)
    return raised


def alarm_scores(aggregated: np.ndarray, confirm_count: int) -> np.ndarray:
    """The highest threshold at which each sequence `[..., evaluations]` raises the alarm (−∞: none, too short):
    the best over evaluations of the smallest aggregate among the last `confirm_count`. A sequence raises at
    threshold t exactly when its score ≥ t, so one score per record and class serves every threshold."""
    aggregated = np.asarray(aggregated, dtype=np.float64)
    count = aggregated.shape[-1]
    if count < confirm_count:
        return np.full(aggregated.shape[:-1], -np.inf)
    runs = np.stack([aggregated[..., i : count - confirm_count + 1 + i] for i in range(confirm_count)], axis=-1)
    return runs.min(axis=-1).max(axis=-1)


def round_up(value: float, digits: int = THRESHOLD_DIGITS) -> float:
    """The smallest number of `digits` significant digits strictly above `value` (0 < value ≤ 1)."""
    exponent = math.floor(math.log10(value)) - digits + 1 if value > 0 else -digits
    step = 10.0**exponent
    rounded = float(f"{math.floor(value / step + 1.0) * step:.{digits}g}")
    # value / step can land a hair below an integer, leaving the rounded value equal to `value`
    return rounded if rounded > value else float(f"{rounded + step:.{digits}g}")


def fit_threshold(scores: np.ndarray, truth: np.ndarray, budget: float) -> float:
    """The lowest threshold at which at most ⌊budget · records⌋ records without the class raise its alarm.

    - Parameters: `scores`: `alarm_scores` per record; `truth`: whether each record has the class; `budget`: the
      false-alarm share of all records allowed.
    """
    negatives = np.sort(np.asarray(scores)[~np.asarray(truth, dtype=bool)])[::-1]
    allowed = math.floor(budget * len(scores) + 1e-9)
    if allowed >= len(negatives):
        return 0.0
    return round_up(float(negatives[allowed]))


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (NaNs when there are no trials)."""
    if trials == 0:
        return float("nan"), float("nan")
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def class_budget(code: str) -> float:
    """The false-alarm budget of a class: `HIGH_PRIORITY_BUDGET` for high-priority findings, else `DEFAULT_BUDGET`."""
    return HIGH_PRIORITY_BUDGET if code in HIGH_PRIORITY_CLASSES else DEFAULT_BUDGET


def alarm_counts(scores: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> list[dict]:
    """Per class at its threshold: positives, alarms on positives (sensitivity with its Wilson interval), false
    alarms (records without the class that raise) and their share of all records.

    - Parameters: `scores`, `labels`: `[records][classes]`; `thresholds`: one per class.
    """
    raised = scores >= np.asarray(thresholds)[None, :]
    rows = []
    for column in range(labels.shape[1]):
        truth = labels[:, column].astype(bool)
        detected = int((raised[:, column] & truth).sum())
        false_alarms = int((raised[:, column] & ~truth).sum())
        low, high = wilson_interval(detected, int(truth.sum()))
        rows.append(
            {
                "positives": int(truth.sum()),
                "detected": detected,
                "sensitivity": detected / truth.sum() if truth.any() else float("nan"),
                "sensitivity_95": [low, high],
                "false_alarms": false_alarms,
                "false_alarm_share": false_alarms / len(truth),
            }
        )
    return rows


def any_alarm_share(scores: np.ndarray, thresholds: np.ndarray, columns: list[int], records: np.ndarray) -> float:
    """The share of the `records` (booleans) that raise at least one alarm of the classes in `columns`."""
    if not records.any():
        return float("nan")
    raised = scores[records][:, columns] >= np.asarray(thresholds)[columns][None, :]
    return float(raised.any(axis=1).mean())
