"""The `evaluate` stage for a run: thresholds on fold 9, metrics on fold 10, ROC plot, JSON and Markdown report."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from functools import partial
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from .data import SAMPLE_RATE_HZ, TEST_FOLDS, TRAIN_FOLDS, VALIDATION_FOLDS, PtbXl
from .evaluate import class_aurocs, macro_auroc, plot_roc, stream_readouts, window_starts
from .export import export_onnx
from .stress import scoring_session
from .model import IncepSE, Preprocessing, StreamingIncepSE
from .thresholds import class_counts, fit_thresholds
from .report_monitoring import monitoring_markdown
from .train import TrainConfig, model_from_checkpoint

DATA_NAME = "PTB-XL 1.0.3, 100 Hz"
SCORES = "scores.npz"
OPERATING_POINTS = "operating-points.json"
THRESHOLD_CRITERION = "per class, the probability maximising Youden's J (sensitivity + specificity - 1) on fold 9"
# macro AUROC of the PTB-XL benchmark's inception1d (Strodthoff et al., 2020, Table 3) and of IncepSE's paper
REFERENCE_AUROC = {
    "all": (0.925, 0.938),
    "diagnostic": (0.931, None),
    "subdiagnostic": (0.930, None),
    "superdiagnostic": (0.921, None),
    "form": (0.899, None),
    "rhythm": (0.953, None),
}


def cached_scores(run: Path, model, preprocessing, data, task, window, hop):
    """Max-aggregated window probabilities of the task's records of folds 9 and 10, kept in the run folder (`SCORES`) for the checkpoint it was computed from, so
    that the report can be rebuilt (e.g. once operating points exist) without scoring again. A streaming model's
    are the maxima over its readouts every `hop` samples from `window` samples in; its fold-10 logits at every
    readout `[records][classes][readouts]` are kept and returned too (None for a windowed model)."""
    digest = hashlib.sha256((run / "best.pt").read_bytes()).hexdigest()
    path = run / SCORES
    validation, test = data.split(task, VALIDATION_FOLDS), data.split(task, TEST_FOLDS)
    if path.is_file():
        with np.load(path) as stored:
            # a streaming model's scores are complete only with its readouts
            complete = "test_readouts" in stored or not isinstance(model, StreamingIncepSE)
            if str(stored["checkpoint_sha256"]) == digest and complete:
                readouts = stored["test_readouts"] if "test_readouts" in stored else None
                return validation, stored["validation"], test, stored["test"], readouts
    kept = {}
    if isinstance(model, StreamingIncepSE):

        def probabilities(split):
            logits = stream_readouts(model, torch.from_numpy(preprocessing.apply(split.millivolts())), window, hop)
            if split is test:
                kept["test_readouts"] = logits.numpy()
            return torch.sigmoid(logits.amax(dim=2).double()).numpy()
    else:
        # scored with ONNX Runtime on the exported graph (the file that ships), about twice as fast as PyTorch on CPU
        graph = run / "scoring.onnx"
        export_onnx(model, graph, {})
        session = scoring_session(graph)
        probabilities = partial(_window_probabilities, session, preprocessing, window, hop)

    validation_probabilities = probabilities(validation)
    test_probabilities = probabilities(test)
    np.savez(
        path, checkpoint_sha256=np.array(digest), validation=validation_probabilities, test=test_probabilities, **kept
    )
    return validation, validation_probabilities, test, test_probabilities, kept.get("test_readouts")


def _window_probabilities(session, preprocessing, window, hop, split):
    """Per record, the maximum over its windows of the probabilities ONNX Runtime gives for them."""
    inputs = preprocessing.apply(split.millivolts())
    starts = window_starts(inputs.shape[2], window, hop)
    logits = np.stack(
        [
            np.concatenate(
                [
                    session.run(["logits"], {"input": np.ascontiguousarray(inputs[i : i + 512, :, s : s + window])})[0]
                    for i in range(0, len(inputs), 512)
                ]
            )
            for s in starts
        ]
    )
    # max over windows commutes with the sigmoid, which is monotonic
    return 1.0 / (1.0 + np.exp(-logits.max(axis=0).astype(np.float64)))


def variant_summary(run: str | Path) -> dict:
    """A run's settings and best fold-9 macro AUROC, read from its best checkpoint, for comparing variants."""
    checkpoint = torch.load(Path(run) / "best.pt", map_location="cpu", weights_only=True)
    config = checkpoint["config"]
    return {
        "run": Path(run).name,
        "task": config["task"],
        "highpass_hz": config["highpass_hz"],
        "pos_weight": config["pos_weight"],
        "seed": config["seed"],
        "epochs": config["epochs"],
        "best_epoch": checkpoint["epoch"],
        "validation_macro_auroc": checkpoint["validation_macro_auroc"],
    }


def evaluate_run(
    data_path: str | Path,
    run: str | Path,
    out: str | Path,
    name: str,
    budget: str = "",
    compare: tuple = (),
    baseline_points: str | Path | None = None,
    baseline_name: str = "previous model",
) -> dict:
    """Evaluates a run's best checkpoint and writes `evaluation.json` (run folder), `<name>.md` and
    `<name>-roc.png` (out folder). `compare`: other run folders whose fold-9 results the report lists beside this
    one's (the variants the choice was made among). When the run folder holds `operating-points.json` (written by
    the `operating-points` command for this run's exported model), the alarm operating points go into the
    evaluation (and so into the export) and the report; `baseline_points`: another model's such file, compared in
    the robustness section. Returns the evaluation."""
    run, out = Path(run), Path(out)
    if not (run / "best.pt").is_file():
        raise FileNotFoundError(f"{run / 'best.pt'} not found: train the run first")
    checkpoint = torch.load(run / "best.pt", map_location="cpu", weights_only=True)
    config = checkpoint["config"]
    model = model_from_checkpoint(checkpoint)
    preprocessing = Preprocessing(**checkpoint["preprocessing"])
    data = PtbXl.load(data_path)
    streaming = isinstance(model, StreamingIncepSE)
    # a streaming model is read as the daemon reads it: from its first readout on, every hop
    window = config["readout_first_samples"] if streaming else config["window_samples"]
    hop, task = config["hop_samples"], config["task"]

    validation, validation_probabilities, test, test_probabilities, test_readouts = cached_scores(
        run, model, preprocessing, data, task, window, hop
    )
    thresholds, fitted = fit_thresholds(validation.labels, validation_probabilities)
    aurocs = class_aurocs(test.labels, test_probabilities)
    counts = class_counts(test.labels, test_probabilities, thresholds)
    test_auroc = macro_auroc(test.labels, test_probabilities)
    validation_auroc = macro_auroc(validation.labels, validation_probabilities)

    out.mkdir(parents=True, exist_ok=True)
    plot_roc(test.labels, test_probabilities, test.classes, f"{name}, fold 10", out / f"{name}-roc.png")
    evaluation = {
        "name": name,
        "task": task,
        "classes": test.classes,
        "descriptions": test.descriptions,
        "thresholds": thresholds,
        "thresholds_fitted": fitted,
        "test_macro_auroc": test_auroc,
        "validation_macro_auroc": validation_auroc,
        "test_records": len(test.labels),
        "validation_records": len(validation.labels),
        "per_class": [
            {
                "code": code,
                "train_positives": int(train_positives),
                "test_positives": int(test.labels[:, i].sum()),
                "auroc": aurocs[i],
                "threshold": thresholds[i],
                "sensitivity": counts[i].sensitivity,
                "specificity": counts[i].specificity,
            }
            for i, (code, train_positives) in enumerate(zip(test.classes, checkpoint["train_positives"]))
        ],
        "variants": [variant_summary(path) for path in (run, *compare)],
        "provenance": {
            "data": DATA_NAME,
            "task": task,
            "train_folds": list(TRAIN_FOLDS),
            "validation_folds": list(VALIDATION_FOLDS),
            "test_folds": list(TEST_FOLDS),
            "train_records": checkpoint["train_records"],
            "training": {field.name: config[field.name] for field in fields(TrainConfig)}
            | {"best_epoch": checkpoint["epoch"], "budget": budget},
            "thresholds": THRESHOLD_CRITERION,
            "metrics": {
                "test_macro_auroc": round(test_auroc, 4),
                "validation_macro_auroc": round(validation_auroc, 4),
                "evaluation": (
                    f"streamed from each record's first sample, logits read every {hop} samples from {window} "
                    "samples in, max over readouts per record"
                    if streaming
                    else "2.5 s windows every 1.25 s, max over windows per record"
                ),
            },
            "date": datetime.date.today().isoformat(),
            "code_revision": _revision(),
        },
    }
    points_path = run / OPERATING_POINTS
    if points_path.is_file():
        points = json.loads(points_path.read_text())
        if points["classes"] != test.classes:
            raise ValueError(f"{points_path}: classes differ from the run's")
        evaluation["alarm"] = {
            "thresholds": dict(zip(points["classes"], points["thresholds"])),
            "budget": dict(zip(points["classes"], points["budgets"])),
            "rule": points["rule"],
            "criterion": points["budget_criterion"],
            "alarm_set": points["alarm_set"],
        }
    evaluation["lead_masking"] = "mask" in config.get("augment", "").split(",")
    if streaming:
        evaluation["streaming"] = streaming_aurocs(test_readouts, test.labels, window, hop, model.time_constant_samples)
    (run / "evaluation.json").write_text(json.dumps(evaluation, indent=1))
    report = markdown(evaluation, checkpoint, preprocessing)
    if points_path.is_file():
        baseline = json.loads(Path(baseline_points).read_text()) if baseline_points else None
        report += monitoring_markdown(points, baseline, baseline_name)
    (out / f"{name}.md").write_text(report)
    print(f"{name}: fold-10 macro AUROC {test_auroc:.4f} (fold 9: {validation_auroc:.4f})")
    return evaluation


STREAM_SECONDS = (2.5, 5.0, 10.0)


def streaming_aurocs(readouts: np.ndarray, labels: np.ndarray, first: int, hop: int, time_constant: float) -> dict:
    """Fold-10 macro AUROC of a streaming model from what it has read by 2.5 s, 5 s and 10 s into each record
    (max over the readouts up to then; at 2.5 s that is the first readout alone). `readouts`: its logits
    `[records][classes][readouts]`, read every `hop` samples from `first` samples in."""
    result = {}
    for seconds in STREAM_SECONDS:
        count = 1 + (round(seconds * SAMPLE_RATE_HZ) - first) // hop
        if 1 <= count <= readouts.shape[2]:
            probabilities = 1.0 / (1.0 + np.exp(-readouts[:, :, :count].max(axis=2).astype(np.float64)))
            result[f"{seconds:g}"] = macro_auroc(labels, probabilities)
    return {"macro_auroc_by_seconds": result, "time_constant_samples": time_constant}


def markdown(evaluation: dict, checkpoint: dict, preprocessing: Preprocessing) -> str:
    """The human-readable report of one model."""
    name, task = evaluation["name"], evaluation["task"]
    config = checkpoint["config"]
    benchmark, paper = REFERENCE_AUROC.get(task, (None, None))
    references = [f"benchmark inception1d {benchmark:.3f}"] if benchmark else []
    references += [f"IncepSE paper {paper:.3f}"] if paper else []
    positives = np.array([row["train_positives"] for row in evaluation["per_class"]])
    train_records = checkpoint["train_records"]
    steps = ", then ".join(
        f"{step['op']} ({step.get('description', 'training-set mean and std per lead')})" for step in preprocessing.steps()
    )
    lines = [
        f"# {name}",
        "",
        f"IncepSE trained on the PTB-XL **{task}** task ({len(evaluation['classes'])} classes), {DATA_NAME}.",
        "",
        "## Result",
        "",
        f"- Macro AUROC on fold 10 (test, {evaluation['test_records']} records): "
        f"**{evaluation['test_macro_auroc']:.4f}**" + (f" (reference: {', '.join(references)})" if references else ""),
        f"- Macro AUROC on fold 9 (validation, {evaluation['validation_records']} records): "
        f"{evaluation['validation_macro_auroc']:.4f}",
        (
            f"- Evaluation as the daemon serves it: {evaluation['provenance']['metrics']['evaluation']}."
            if "streaming" in evaluation
            else "- Evaluation as the benchmark: 2.5 s windows every 1.25 s over each 10 s record, max over windows."
        ),
        f"- Thresholds: {THRESHOLD_CRITERION}; sensitivity and specificity below are on fold 10 at those thresholds.",
        f"- ROC curves: `{name}-roc.png`. Model file: `{name}.onnx`, written by `ecgtrain export`, which fails "
        f"unless ONNX Runtime reproduces PyTorch's logits within {1e-4 if 'streaming' in evaluation else 1e-5:g}.",
        "",
        "## Training",
        "",
        f"- Folds 1-8 ({train_records} records with a label of this task), validation fold 9, test fold 10.",
        f"- Preprocessing (causal, in the model's metadata): {steps}.",
        f"- Random {config['window_samples'] / SAMPLE_RATE_HZ:g} s crops, batch {config['batch_size']}, AdamW (lr {config['learning_rate']}, weight decay "
        f"{config['weight_decay']}), gradient norm clipped at {config['clip_norm']}, {config['warmup_epochs']} "
        f"warm-up epochs then cosine decay, {config['epochs']} epochs, seed {config['seed']}; class weighting: "
        f"{config['pos_weight']}.",
        f"- Kept: epoch {checkpoint['epoch']}, the best fold-9 macro AUROC.",
    ]
    if config.get("init_from"):
        lines.append(
            f"- Fine-tuned from `{config['init_from']}` (its weights and its preprocessing statistics), not trained "
            "from random weights."
        )
    if config.get("augment"):
        lines.append(f"- Augmentations on every training crop: {config['augment']} (section below).")
    lines += [
        f"- Class imbalance: positives per class in training range from {positives.min()} to {positives.max()} "
        f"({positives.min() / train_records:.2%} to {positives.max() / train_records:.1%} of records).",
    ]
    if budget_line := evaluation["provenance"]["training"]["budget"]:
        lines.append(f"- Budget: {budget_line}")
    if streaming := evaluation.get("streaming"):
        by_seconds = ", ".join(f"{seconds} s: {auroc:.4f}" for seconds, auroc in streaming["macro_auroc_by_seconds"].items())
        lines += [
            "",
            "## Streaming",
            "",
            f"- Causal StreamingIncepSE (docs/model-format.md), running means with a time constant of "
            f"{streaming['time_constant_samples']:g} samples; trained on {config['window_samples']}-sample crops, the "
            f"loss on the logits read every {config['hop_samples']} samples from {config['readout_first_samples']} in.",
            f"- Fold-10 macro AUROC from what the stream has read by then (max over readouts so far): {by_seconds}.",
        ]
    if len(evaluation["variants"]) > 1:
        lines += [
            "",
            "## Variants compared on fold 9 (the choice was made on validation only)",
            "",
            "| run | high-pass | class weighting | seed | epochs | best epoch | fold-9 macro AUROC |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for variant in evaluation["variants"]:
            highpass = f"{variant['highpass_hz']} Hz" if variant["highpass_hz"] else "none"
            lines.append(
                f"| {variant['run']} | {highpass} | {variant['pos_weight']} | {variant['seed']} | {variant['epochs']} "
                f"| {variant['best_epoch']} | {variant['validation_macro_auroc']:.4f} |"
            )
    lines += [
        "",
        "## Per class (fold 10)",
        "",
        "| class | description | train + | test + | AUROC | threshold | sensitivity | specificity |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row, description, fitted in zip(
        evaluation["per_class"], evaluation["descriptions"], evaluation["thresholds_fitted"]
    ):
        threshold = f"{row['threshold']:.3f}" + ("" if fitted else " (default)")
        lines.append(
            f"| {row['code']} | {description} | {row['train_positives']} | {row['test_positives']} | "
            f"{row['auroc']:.3f} | {threshold} | {row['sensitivity']:.3f} | {row['specificity']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def _revision() -> str:
    """The code's git revision, or "unknown" outside a checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()
