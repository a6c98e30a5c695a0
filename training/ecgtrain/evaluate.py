"""Benchmark evaluation: sliding windows max-aggregated per record, macro AUROC, ROC curves.

As in the PTB-XL benchmark, a record of `T` samples is cut into windows of `window` samples every `hop` samples
(2.5 s and 1.25 s at 100 Hz: 7 windows over 10 s), the model scores each window, and the record's probability of
a class is the maximum over its windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve


def window_starts(samples: int, window: int, hop: int) -> list[int]:
    """Start offsets of the windows covering a record of `samples` samples (the last partial hop is not padded)."""
    if samples < window:
        raise ValueError(f"record of {samples} samples is shorter than the {window}-sample window")
    return list(range(0, samples - window + 1, hop))


@torch.no_grad()
def predict_records(
    model: torch.nn.Module, records: torch.Tensor, window: int, hop: int, batch_windows: int = 4096
) -> np.ndarray:
    """Per-record class probabilities, the maximum over windows of each record.

    - Parameters: `records`: preprocessed `[records][leads][samples]` on the model's device.
    - Returns: float64 `[records][classes]`.
    """
    model.eval()
    count, leads, samples = records.shape
    starts = window_starts(samples, window, hop)
    windows = records.unfold(2, window, hop)[:, :, : len(starts)]  # [records][leads][windows][window]
    windows = windows.permute(0, 2, 1, 3).reshape(count * len(starts), leads, window)
    logits = torch.cat([model(windows[i : i + batch_windows]) for i in range(0, len(windows), batch_windows)])
    # max over windows commutes with the sigmoid, which is monotonic
    per_record = logits.reshape(count, len(starts), -1).amax(dim=1)
    return torch.sigmoid(per_record.double()).cpu().numpy()


def readout_samples(samples: int, first: int, hop: int) -> list[int]:
    """The samples at which a streaming model is read: the last sample of every hop from `first` samples in."""
    if samples < first:
        raise ValueError(f"record of {samples} samples is shorter than the {first}-sample first readout")
    return list(range(first - 1, samples, hop))


@torch.no_grad()
def stream_readouts(
    model: torch.nn.Module, records: torch.Tensor, first: int, hop: int, batch_records: int = 256
) -> torch.Tensor:
    """A streaming model's logits at each readout, every record streamed from its first sample: read every `hop`
    samples from `first` samples in, as the daemon reads them. `records`: preprocessed `[records][leads][samples]`
    on the model's device. Returns `[records][classes][readouts]`."""
    model.eval()
    readouts = readout_samples(records.shape[2], first, hop)
    return torch.cat([model(records[i : i + batch_records])[:, :, readouts] for i in range(0, len(records), batch_records)])


def predict_streams(
    model: torch.nn.Module, records: torch.Tensor, first: int, hop: int, batch_records: int = 256
) -> np.ndarray:
    """Per-record class probabilities of a streaming model: the maximum over its readouts (`stream_readouts`), as
    `predict_records` takes it over windows. Returns float64 `[records][classes]`."""
    per_record = stream_readouts(model, records, first, hop, batch_records).amax(dim=2)
    return torch.sigmoid(per_record.double()).cpu().numpy()


def class_aurocs(labels: np.ndarray, probabilities: np.ndarray) -> list[float]:
    """AUROC per class; NaN for a class without both a positive and a negative record."""
    aurocs = []
    for column in range(labels.shape[1]):
        truth = labels[:, column]
        if truth.min() == truth.max():
            aurocs.append(float("nan"))
        else:
            aurocs.append(float(roc_auc_score(truth, probabilities[:, column])))
    return aurocs


def macro_auroc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Unweighted mean of the per-class AUROCs over the classes that have both labels in `labels`."""
    aurocs = np.array(class_aurocs(labels, probabilities))
    defined = aurocs[~np.isnan(aurocs)]
    return float(defined.mean()) if len(defined) else float("nan")


def plot_roc(
    labels: np.ndarray, probabilities: np.ndarray, classes: list[str], title: str, path: str | Path
) -> None:
    """Writes one small PNG: every class's ROC curve, labelled when there are few, and the macro-average curve."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    grid = np.linspace(0.0, 1.0, 201)
    curves = []
    figure, axes = pyplot.subplots(figsize=(5, 5), dpi=80)
    few = len(classes) <= 12
    for column, name in enumerate(classes):
        truth = labels[:, column]
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, probabilities[:, column])
        curves.append(np.interp(grid, fpr, tpr))
        auc = roc_auc_score(truth, probabilities[:, column])
        style = {"linewidth": 1.2, "label": f"{name} ({auc:.3f})"} if few else {"linewidth": 0.5, "color": "0.75"}
        axes.plot(fpr, tpr, **style)
    if curves:
        macro = macro_auroc(labels, probabilities)
        axes.plot(grid, np.mean(curves, axis=0), color="black", linewidth=2, label=f"macro average ({macro:.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="0.5", linewidth=0.8)
    axes.set(xlabel="1 − specificity", ylabel="sensitivity", title=title, xlim=(0, 1), ylim=(0, 1.01))
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, pil_kwargs={"optimize": True})
    pyplot.close(figure)
