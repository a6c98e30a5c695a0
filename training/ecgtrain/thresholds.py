"""Per-class decision thresholds and the sensitivity/specificity they give.

Criterion: for each class, the probability threshold that maximises Youden's J = sensitivity + specificity − 1 on
the validation fold (the ROC point farthest above the chance diagonal). A class is called present when its
probability is at or above its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, roc_curve

FALLBACK_THRESHOLD = 0.5


def youden_threshold(truth: np.ndarray, probability: np.ndarray) -> float | None:
    """The probability threshold maximising Youden's J for one class, or None when `truth` lacks a positive or a
    negative (no ROC curve exists). Ties go to the highest threshold (fewest alarms)."""
    truth = np.asarray(truth).astype(bool)
    if truth.all() or not truth.any():
        return None
    false_positive_rate, true_positive_rate, cut = roc_curve(truth, probability, drop_intermediate=False)
    finite = np.isfinite(cut)
    j = np.where(finite, true_positive_rate - false_positive_rate, -np.inf)
    return float(cut[int(np.argmax(j))])


def fit_thresholds(labels: np.ndarray, probabilities: np.ndarray) -> tuple[list[float], list[bool]]:
    """Youden thresholds for every class of `[records][classes]` labels and probabilities.

    - Returns: the thresholds, and per class whether it was fitted (False: the fold has no positive or no negative
      of that class, and `FALLBACK_THRESHOLD` is used).
    """
    thresholds, fitted = [], []
    for column in range(labels.shape[1]):
        threshold = youden_threshold(labels[:, column], probabilities[:, column])
        thresholds.append(FALLBACK_THRESHOLD if threshold is None else threshold)
        fitted.append(threshold is not None)
    return thresholds, fitted


@dataclass
class ClassCounts:
    """Confusion counts of one class at its threshold, with the rates they give (NaN when undefined)."""

    true_positives: int
    false_negatives: int
    true_negatives: int
    false_positives: int

    @property
    def sensitivity(self) -> float:
        """TP / (TP + FN): the share of present cases that are flagged."""
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else float("nan")

    @property
    def specificity(self) -> float:
        """TN / (TN + FP): the share of absent cases left unflagged."""
        negatives = self.true_negatives + self.false_positives
        return self.true_negatives / negatives if negatives else float("nan")


def class_counts(labels: np.ndarray, probabilities: np.ndarray, thresholds: list[float]) -> list[ClassCounts]:
    """Confusion counts per class when class `c` is called present at `probabilities[:, c] >= thresholds[c]`."""
    counts = []
    for column, threshold in enumerate(thresholds):
        predicted = probabilities[:, column] >= threshold
        tn, fp, fn, tp = confusion_matrix(labels[:, column].astype(bool), predicted, labels=[False, True]).ravel()
        counts.append(ClassCounts(int(tp), int(fn), int(tn), int(fp)))
    return counts
