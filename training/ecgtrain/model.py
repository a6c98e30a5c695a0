"""IncepSE (InceptionTime modules with squeeze-and-excitation) and the causal preprocessing the daemon replays.

Network, for input `[batch][12][time]`:
- six InceptionTime modules: a 1×1 bottleneck to 32 channels feeding convolutions of kernel 39, 19 and 9 (32 filters
  each, "same" padding), in parallel a max-pool (3, stride 1) branch with a 1×1 convolution (32 filters); the four
  branches are concatenated (128 channels), batch-normalised and rectified;
- a squeeze-and-excitation block right after every module (after its BN+ReLU, before any residual addition): channel
  means over time → linear 128→8 → ReLU → linear 8→128 → sigmoid → channel-wise scale;
- a residual shortcut every three modules: 1×1 convolution + BN of the input of those three modules, added, ReLU;
- global average pooling over time and a linear head to one logit per class (the sigmoid is applied outside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal
import torch
from torch import nn
from torch.nn import functional as F

from .data import LEADS, SAMPLE_RATE_HZ


class InceptionModule(nn.Module):
    """Bottleneck, three convolutions, a max-pool branch, concatenation, BN and ReLU. `[B][in][T]` → `[B][4f][T]`."""

    def __init__(self, in_channels: int, filters: int = 32, bottleneck: int = 32, kernels=(39, 19, 9)):
        super().__init__()
        self.bottleneck = nn.Conv1d(in_channels, bottleneck, 1, bias=False)
        self.convs = nn.ModuleList(nn.Conv1d(bottleneck, filters, k, padding=k // 2, bias=False) for k in kernels)
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(in_channels, filters, 1, bias=False)
        self.bn = nn.BatchNorm1d(filters * (len(kernels) + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeezed = self.bottleneck(x)
        branches = [conv(squeezed) for conv in self.convs] + [self.pool_conv(self.pool(x))]
        return F.relu(self.bn(torch.cat(branches, dim=1)))


class SqueezeExcite(nn.Module):
    """Channel gates from the time-averaged activations, applied in place of the input. `[B][C][T]` → same."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.squeeze = nn.Linear(channels, channels // reduction)
        self.excite = nn.Linear(channels // reduction, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean(dim=2)))))
        return x * gates.unsqueeze(2)


class IncepSE(nn.Module):
    """The classifier: `[B][leads][T]` preprocessed samples → `[B][classes]` logits, for any `T`."""

    def __init__(self, classes: int, leads: int = len(LEADS), depth: int = 6, filters: int = 32):
        super().__init__()
        width = 4 * filters
        self.inception = nn.ModuleList(InceptionModule(leads if i == 0 else width, filters) for i in range(depth))
        self.excitation = nn.ModuleList(SqueezeExcite(width) for _ in range(depth))
        self.shortcuts = nn.ModuleList(
            nn.Sequential(nn.Conv1d(leads if i == 0 else width, width, 1, bias=False), nn.BatchNorm1d(width))
            for i in range(depth // 3)
        )
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        for i, (module, excitation) in enumerate(zip(self.inception, self.excitation)):
            x = excitation(module(x))
            if i % 3 == 2:
                x = F.relu(x + self.shortcuts[i // 3](residual))
                residual = x
        return self.head(x.mean(dim=2))


@dataclass
class Preprocessing:
    """Per-lead causal preprocessing, in the order the metadata lists it: optional high-pass, then standardisation.

    `mean`, `std`: per lead, in the units after the filter (mV). `sos`: Butterworth second-order sections or None.
    """

    mean: list[float]
    std: list[float]
    sos: list[list[float]] | None = None
    highpass_hz: float | None = None
    highpass_order: int = 2

    @staticmethod
    def highpass(cutoff_hz: float, order: int = 2) -> list[list[float]]:
        """A causal Butterworth high-pass as second-order sections `[b0, b1, b2, 1, a1, a2]` at the model rate."""
        sos = scipy.signal.butter(order, cutoff_hz, btype="highpass", fs=SAMPLE_RATE_HZ, output="sos")
        return sos.tolist()

    @staticmethod
    def fit(millivolts: np.ndarray, highpass_hz: float | None, highpass_order: int = 2) -> Preprocessing:
        """Fits the per-lead statistics on training records `[records][leads][samples]` (mV), after the filter."""
        sos = Preprocessing.highpass(highpass_hz, highpass_order) if highpass_hz else None
        filtered = Preprocessing(mean=[0.0] * len(LEADS), std=[1.0] * len(LEADS), sos=sos).apply(millivolts)
        mean = filtered.mean(axis=(0, 2), dtype=np.float64)
        std = filtered.std(axis=(0, 2), dtype=np.float64)
        return Preprocessing(mean.tolist(), std.tolist(), sos, highpass_hz, highpass_order)

    def apply(self, millivolts: np.ndarray) -> np.ndarray:
        """Runs the steps over `[..., leads, samples]` (mV), each record from a zero filter state, as a stream would."""
        x = np.asarray(millivolts, dtype=np.float64)
        if self.sos is not None:
            x = scipy.signal.sosfilt(np.asarray(self.sos), x, axis=-1)
        mean = np.asarray(self.mean)[:, None]
        std = np.asarray(self.std)[:, None]
        return ((x - mean) / std).astype(np.float32)

    def steps(self) -> list[dict]:
        """The `ecg.preprocessing` metadata value (see docs/model-format.md)."""
        steps = []
        if self.sos is not None:
            description = f"Butterworth high-pass, order {self.highpass_order}, {self.highpass_hz} Hz, causal"
            steps.append({"op": "sos_filter", "sos": self.sos, "description": description})
        steps.append({"op": "standardize", "mean": self.mean, "std": self.std})
        return steps
