"""The report's monitoring sections: alarm operating points, the proposed default alarm set, robustness under
stress and the cost of each masked lead, from the JSON the `operating-points` command writes."""

from __future__ import annotations

import numpy as np

from . import augment
from .data import LEADS
from .monitoring import CANDIDATE_ALARMS, MAXIMUM_NORMAL_FALSE_ALARMS, MINIMUM_POSITIVES, MINIMUM_SENSITIVITY
from .stress import WANDER_STRESS_HZ, WANDER_STRESS_MV

STRESS_NAMES = {
    "clean": "clean",
    "wander": f"baseline wander {WANDER_STRESS_MV} mV, {WANDER_STRESS_HZ} Hz",
    "emg6": "muscle noise, 6 dB SNR",
    "emg0": "muscle noise, 0 dB SNR",
}


def _share(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f} %"


def _interval(row: dict) -> str:
    low, high = row["sensitivity_95"]
    if row["positives"] == 0:
        return "–"
    return f"{100 * row['sensitivity']:.0f} % ({100 * low:.0f}–{100 * high:.0f})"


def augmentation_markdown() -> list[str]:
    """What the training crops were given, with the ranges of `augment`."""
    p = augment.PROBABILITY
    return [
        "",
        "## Augmentations (training crops, in mV before preprocessing)",
        "",
        "| artefact | chance per crop | range |",
        "|---|---:|---|",
        f"| baseline wander | {p['wander']:.0%} | {augment.WANDER_SINUSOIDS} sinusoids of {augment.WANDER_HZ[0]}-"
        f"{augment.WANDER_HZ[1]} Hz, half shared by all leads, half per lead; peak up to {augment.WANDER_MAX_MV} mV |",
        f"| muscle noise | {p['emg']:.0%} | Gaussian, {augment.EMG_BAND_HZ[0]:.0f}-{augment.EMG_BAND_HZ[1]:.0f} Hz, "
        f"SNR {augment.EMG_SNR_DB[0]:.0f}-{augment.EMG_SNR_DB[1]:.0f} dB per lead |",
        f"| electrode motion | {p['motion']:.0%} | smoothed random walk up to {augment.MOTION_WALK_MAX_MV} mV; per "
        f"lead a decaying step ({augment.MOTION_STEP_MV[0]}-{augment.MOTION_STEP_MV[1]} mV, "
        f"{augment.MOTION_STEP_PROBABILITY:.0%}) and a 2-sample spike ({augment.MOTION_SPIKE_MV[0]}-"
        f"{augment.MOTION_SPIKE_MV[1]} mV, {augment.MOTION_SPIKE_PROBABILITY:.0%}) |",
        f"| powerline | {p['powerline']:.0%} | 50 Hz (at 100 Hz: Nyquist, alternating samples) or 60 Hz (aliased "
        f"to 40 Hz), up to {augment.POWERLINE_MAX_MV} mV per lead |",
        f"| amplitude scaling | {p['scale']:.0%} | gain {augment.SCALE_GAIN[0]}-{augment.SCALE_GAIN[1]} per lead, "
        "log-uniform |",
        f"| lead masking | {p['mask']:.0%} | {augment.MASK_LEADS[0]}-{augment.MASK_LEADS[1]} random leads set to 0 "
        "after standardisation (`ecg.lead_masking` = `zero-standardized`) |",
    ]


def monitoring_markdown(points: dict, baseline: dict | None, baseline_name: str = "previous model") -> str:
    """The sections for one model's operating points; `baseline`: another model's, named `baseline_name`, for the
    robustness comparison."""
    classes, rule = points["classes"], points["rule"]
    lines = augmentation_markdown() + [
        "",
        "## Alarm operating points (`ecg.alarm_thresholds`)",
        "",
        f"Fitted on fold 9 through the daemon's alarm rule: windows of {rule['window_seconds']} s every "
        f"{rule['hop_seconds']} s, {rule['aggregation']} over the windows of the last {rule['span_seconds']:g} s, "
        f"raised after {rule['confirm_count']} consecutive evaluations at or above the threshold (16 windows per "
        "10 s record). Criterion: " + points["budget_criterion"] + ". A false alarm is a record without the class "
        "that raises its alarm; budgets are shares of all records. Sensitivity is the share of records with the "
        "class that raise it, with its 95 % Wilson interval; fold 10 checks the fold-9 fit.",
        "",
        "| class | budget | threshold | fold-9 + | fold-9 sensitivity | fold-9 false alarms | on NORM+SR | "
        "fold-10 + | fold-10 sensitivity | fold-10 false alarms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for code in CANDIDATE_ALARMS:
        i = classes.index(code)
        fit, check = points["validation"][i], points["test"][i]
        lines.append(
            f"| {code} | {_share(points['budgets'][i])} | {points['thresholds'][i]:.4g} | {fit['positives']} | "
            f"{_interval(fit)} | {fit['false_alarms']} ({_share(fit['false_alarm_share'])}) | "
            f"{_share(fit['normal_false_alarm_share'])} | {check['positives']} | {_interval(check)} | "
            f"{check['false_alarms']} ({_share(check['false_alarm_share'])}) |"
        )
    validation, test = points["validation_summary"], points["test_summary"]
    lines += [
        "",
        "Thresholds of every class are in the metadata; the table lists the candidates for a bedside monitor "
        "(rhythm and conduction changes, acute injury).",
        "",
        "## Proposed default alarm set",
        "",
        f"Candidates whose alarm, within its budget, finds at least {MINIMUM_SENSITIVITY:.0%} of at least "
        f"{MINIMUM_POSITIVES} fold-9 cases and raises on at most {MAXIMUM_NORMAL_FALSE_ALARMS:.0%} of fold-9 NORM+SR "
        f"records: **{', '.join(points['alarm_set'])}**.",
        "",
        "| fold | records | NORM+SR records | NORM+SR raising any alarm of the set | all records raising any | "
        "AFIB sensitivity | AFIB false alarms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fold, row in (("9 (fit)", validation), ("10 (check)", test)):
        lines.append(
            f"| {fold} | {row['records']} | {row['normal_records']} | {_share(row['normal_any_alarm'])} | "
            f"{_share(row['any_alarm'])} | {_share(row['afib_sensitivity'])} | {_share(row['afib_false_alarm_share'])} |"
        )
    lines += _robustness(points, baseline, baseline_name) + _masked(points)
    return "\n".join(lines) + "\n"


def _stress_rows(points: dict) -> list[tuple[str, dict]]:
    """Each stress of `points` with its summary; the twelve masked leads as their mean and their worst."""
    stress = points.get("stress", {})
    rows = [(STRESS_NAMES[name], stress[name]) for name in STRESS_NAMES if name in stress]
    masked = [stress[f"mask-{lead}"] for lead in LEADS if f"mask-{lead}" in stress]
    if masked:
        keys = ("macro_auroc", "normal_any_alarm", "afib_sensitivity", "afib_false_alarm_share")
        rows.append((f"one lead masked, mean of {len(masked)}", {k: float(np.mean([m[k] for m in masked])) for k in keys}))
        worst = {
            "macro_auroc": min(m["macro_auroc"] for m in masked),
            "normal_any_alarm": max(m["normal_any_alarm"] for m in masked),
            "afib_sensitivity": min(m["afib_sensitivity"] for m in masked),
            "afib_false_alarm_share": max(m["afib_false_alarm_share"] for m in masked),
        }
        rows.append(("one lead masked, worst lead", worst))
    return rows


def _robustness(points: dict, baseline: dict | None, baseline_name: str) -> list[str]:
    if not points.get("stress"):
        return []
    first = next(iter(points["stress"].values()))
    lines = [
        "",
        "## Robustness (fold-9 stress subset)",
        "",
        f"{first['records']} fold-9 records (random, a third drawn from AFIB: {first['afib_positives']} AFIB, "
        f"{first['normal_records']} NORM+SR), each stress added in mV to the whole record "
        "with a fixed seed, so every model sees the same noisy records; each model at its own operating points "
        "and with the default set above. Macro AUROC is of the alarm scores (max over the first 14 windows) on "
        "this subset, so it is not the benchmark figure.",
        "",
        "| stress | model | macro AUROC | NORM+SR raising any alarm | AFIB sensitivity | AFIB false alarms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    models = [("this model", points)] + ([(baseline_name, baseline)] if baseline else [])
    rows = {label: dict(_stress_rows(source)) for label, source in models}
    for stress in rows["this model"]:
        for label, _ in models:
            row = rows[label].get(stress)
            if row:
                lines.append(
                    f"| {stress} | {label} | {row['macro_auroc']:.4f} | {_share(row['normal_any_alarm'])} | "
                    f"{_share(row['afib_sensitivity'])} | {_share(row['afib_false_alarm_share'])} |"
                )
    if baseline:
        lines.append("")
        lines.append(
            f"The {baseline_name} is measured at thresholds fitted the same way to its own fold-9 scores, with this "
            f"model's default set ({', '.join(points['alarm_set'])})."
        )
    return lines


def _masked(points: dict) -> list[str]:
    masked = points.get("test_masked", {})
    if "clean" not in masked:
        return []
    clean = masked["clean"]
    lines = [
        "",
        "## Cost of a masked lead (fold-10 subset)",
        "",
        f"{clean['records']} fold-10 records (random, a third drawn from AFIB), one lead's standardised input "
        "set to 0 as the daemon does for a lead that is off, at the operating points above.",
        "",
        "| masked lead | macro AUROC | change | AFIB sensitivity | NORM+SR raising any alarm |",
        "|---|---:|---:|---:|---:|",
        f"| none | {clean['macro_auroc']:.4f} | | {_share(clean['afib_sensitivity'])} | "
        f"{_share(clean['normal_any_alarm'])} |",
    ]
    for lead in LEADS:
        row = masked.get(f"mask-{lead}")
        if row:
            lines.append(
                f"| {lead} | {row['macro_auroc']:.4f} | {row['macro_auroc'] - clean['macro_auroc']:+.4f} | "
                f"{_share(row['afib_sensitivity'])} | {_share(row['normal_any_alarm'])} |"
            )
    return lines
