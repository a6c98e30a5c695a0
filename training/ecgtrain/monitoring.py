"""The `operating-points` stage: alarm thresholds fitted on fold 9 through the daemon's rule, and what they give.

For an exported model: every fold-9 record is cut into the daemon's windows (2.5 s every 0.5 s), scored, and turned
into one alarm score per class (`alarms.alarm_scores`); per class the lowest threshold within its false-alarm budget
is kept. Reported with it: alarm sensitivity (Wilson 95 % interval) and false alarms per class on fold 9 and fold 10,
the share of NORM+SR records raising any alarm of a proposed default set, and the same under stress (baseline
wander, muscle noise, one lead masked) on a fixed subset of fold 9 and per masked lead on a subset of fold 10.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .alarms import AlarmRule, aggregates, alarm_counts, alarm_scores, any_alarm_share, class_budget, fit_threshold
from .data import LEADS, TEST_FOLDS, VALIDATION_FOLDS, PtbXl
from .evaluate import macro_auroc
from .stress import STRESSES, OnnxScorer, cached_window_probabilities

# a bedside monitor's candidates: rhythm and conduction changes and acute injury patterns
CANDIDATE_ALARMS = (
    "AFIB", "AFLT", "SVTAC", "PSVT", "STACH", "SBRAD", "PVC", "BIGU", "TRIGU", "CLBBB", "CRBBB", "2AVB", "3AVB",
    "WPW", "LNGQT", "INJAS", "INJAL", "INJIN", "INJLA", "INJIL", "STE_",
)
# the stress subsets: a third drawn from the AFIB records (the alarm the stress numbers follow), the rest at random
STRESS_RECORDS = 240
SUBSET_SEED = 9
# a class enters the proposed default set when fold 9 holds this many positives and its alarm finds this share
MINIMUM_POSITIVES = 10
MINIMUM_SENSITIVITY = 0.5
# ... and its false alarms on NORM+SR records alone stay at or below this share (a normal patient must stay quiet)
MAXIMUM_NORMAL_FALSE_ALARMS = 0.01


def scores_of(probabilities: np.ndarray, rule: AlarmRule) -> np.ndarray:
    """Alarm scores `[records][classes]` from window probabilities `[records][windows][classes]`."""
    per_class = np.moveaxis(probabilities, 1, 2)  # [records][classes][windows]
    return alarm_scores(aggregates(per_class, rule), rule.confirm_count)


def normal_records(data_classes: list[str], labels: np.ndarray) -> np.ndarray:
    """Records labelled both NORM and SR: a normal ECG in sinus rhythm."""
    return (labels[:, data_classes.index("NORM")] == 1) & (labels[:, data_classes.index("SR")] == 1)


def stress_subset(labels: np.ndarray, classes: list[str], size: int = STRESS_RECORDS) -> np.ndarray:
    """Indices of a stress subset of `size` records (fixed seed), sorted: a third drawn from the AFIB records, the
    rest from all the other records (AFIB ones not drawn first included, so a few more are AFIB)."""
    generator = np.random.default_rng(SUBSET_SEED)
    afib = np.flatnonzero(labels[:, classes.index("AFIB")] == 1)
    afib = generator.choice(afib, size=min(len(afib), size // 3), replace=False)
    others = np.setdiff1d(np.arange(len(labels)), afib)
    chosen = generator.choice(others, size=min(len(others), size - len(afib)), replace=False)
    return np.sort(np.concatenate([afib, chosen]))


def summary(scores, labels, classes, thresholds, alarm_set) -> dict:
    """Macro AUROC of the alarm scores, the share of NORM+SR records raising any alarm of `alarm_set`, and AFIB's
    alarm sensitivity and false-alarm share, at `thresholds`."""
    columns = [classes.index(code) for code in alarm_set]
    normal = normal_records(classes, labels)
    afib = alarm_counts(scores[:, [classes.index("AFIB")]], labels[:, [classes.index("AFIB")]],
                        np.asarray(thresholds)[[classes.index("AFIB")]])[0]
    return {
        "records": int(len(labels)),
        "normal_records": int(normal.sum()),
        "macro_auroc": macro_auroc(labels, scores),
        "normal_any_alarm": any_alarm_share(scores, thresholds, columns, normal),
        "any_alarm": any_alarm_share(scores, thresholds, columns, np.ones(len(labels), dtype=bool)),
        "afib_sensitivity": afib["sensitivity"],
        "afib_positives": afib["positives"],
        "afib_false_alarm_share": afib["false_alarm_share"],
    }


def propose_alarm_set(classes: list[str], validation: list[dict]) -> list[str]:
    """Candidates whose fold-9 alarm finds at least `MINIMUM_SENSITIVITY` of at least `MINIMUM_POSITIVES` cases
    within the budget (which holds by construction) and raises on at most `MAXIMUM_NORMAL_FALSE_ALARMS` of the
    NORM+SR records."""
    return [
        code
        for code in CANDIDATE_ALARMS
        if validation[classes.index(code)]["positives"] >= MINIMUM_POSITIVES
        and validation[classes.index(code)]["sensitivity"] >= MINIMUM_SENSITIVITY
        and validation[classes.index(code)]["normal_false_alarm_share"] <= MAXIMUM_NORMAL_FALSE_ALARMS
    ]


def operating_points(
    data_path: str | Path,
    model_path: str | Path,
    out: str | Path,
    cache: str | Path,
    stresses: tuple[str, ...] = STRESSES,
    alarm_set: tuple[str, ...] | None = None,
    rule: AlarmRule = AlarmRule(),
    masked_test: bool = True,
    stress_only: bool = False,
    test_subset_only: bool = False,
) -> dict:
    """Fits and measures the alarm operating points of `model_path`; writes and returns the JSON (`out`).

    `alarm_set`: the default alarm set the any-alarm shares are measured for (None: the one proposed from fold 9).
    `masked_test`: also measure each masked lead on the fold-10 subset. `stress_only`: only score the stressed
    windows into `cache` (fitting needs the clean fold-9 scores; several processes can share the work this way).
    `test_subset_only`: check on the fold-10 stress subset instead of the whole fold.
    """
    scorer = OnnxScorer(model_path)
    data = PtbXl.load(data_path)
    validation = data.split("all", VALIDATION_FOLDS)
    test = data.split("all", TEST_FOLDS)
    classes = validation.classes
    if scorer.classes != classes:
        raise ValueError(f"{model_path}: classes differ from the 'all' task's")

    def probabilities(split, stress, key, rows=None):
        millivolts = split.millivolts() if rows is None else split.millivolts()[rows]
        return cached_window_probabilities(
            scorer, millivolts, stress, rule.window_samples, rule.hop_samples, Path(cache), key
        )

    subset, test_subset = stress_subset(validation.labels, classes), stress_subset(test.labels, classes)
    subset_key, test_key = f"fold9-subset{len(subset)}", f"fold10-subset{len(test_subset)}"
    if stress_only:
        for stress in stresses:
            probabilities(validation, stress, subset_key, subset)
        for stress in ["clean"] + [f"mask-{lead}" for lead in LEADS] if masked_test else []:
            probabilities(test, stress, test_key, test_subset)
        return {}

    validation_scores = scores_of(probabilities(validation, "clean", "fold9"), rule)
    budgets = [class_budget(code) for code in classes]
    thresholds = [fit_threshold(validation_scores[:, i], validation.labels[:, i], b) for i, b in enumerate(budgets)]
    validation_counts = alarm_counts(validation_scores, validation.labels, thresholds)
    normal = normal_records(classes, validation.labels)
    for column, row in enumerate(validation_counts):
        raised = validation_scores[normal, column] >= thresholds[column]
        row["normal_false_alarm_share"] = float(raised.mean()) if normal.any() else float("nan")
    chosen = list(alarm_set) if alarm_set is not None else propose_alarm_set(classes, validation_counts)
    result = {
        "model": str(model_path),
        "model_sha256_12": scorer.digest,
        "rule": rule.metadata(),
        "budget_criterion": "per class, the lowest threshold at which records of fold 9 without the class that raise "
        "its alarm are at most budget x records",
        "classes": classes,
        "budgets": budgets,
        "thresholds": thresholds,
        "validation": validation_counts,
        "alarm_set": chosen,
        "validation_summary": summary(validation_scores, validation.labels, classes, thresholds, chosen),
    }
    _write(out, result)

    if not test_subset_only:
        test_scores, test_labels = scores_of(probabilities(test, "clean", "fold10"), rule), test.labels
    else:
        test_scores = scores_of(probabilities(test, "clean", test_key, test_subset), rule)
        test_labels = test.labels[test_subset]
    result["test"] = alarm_counts(test_scores, test_labels, thresholds)
    result["test_summary"] = summary(test_scores, test_labels, classes, thresholds, chosen)
    _write(out, result)

    result["stress"] = {}
    for stress in stresses:
        scores = scores_of(probabilities(validation, stress, subset_key, subset), rule)
        result["stress"][stress] = summary(scores, validation.labels[subset], classes, thresholds, chosen)
        _write(out, result)
        print(f"{stress}: {json.dumps(result['stress'][stress])}", flush=True)

    result["test_masked"] = {}
    for stress in ["clean"] + [f"mask-{lead}" for lead in LEADS] if masked_test else []:
        scores = scores_of(probabilities(test, stress, test_key, test_subset), rule)
        result["test_masked"][stress] = summary(scores, test.labels[test_subset], classes, thresholds, chosen)
        _write(out, result)
    _write(out, result)
    return result


def _write(path: str | Path, result: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=1))
