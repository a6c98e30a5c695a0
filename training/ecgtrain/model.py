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

import math
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


def causal_mean(x: torch.Tensor, decay: float, block: int = 1024) -> torch.Tensor:
    """The exponentially weighted mean of everything so far, at every sample of `[..., T]`.

    `m[t] = Σ_{i≤t} decay^(t-i)·x[i] / Σ_{i≤t} decay^(t-i)`: the plain mean of the first samples, turning into a
    moving average with a time constant of `1 / (1 - decay)` samples. A stream keeps it as two contracting
    recurrences (`S = decay·S + x`, `Z = decay·Z + 1`, `m = S / Z`): rounding errors fade instead of accumulating,
    so it cannot drift however long the stream. Computed here block by block as products with the decay kernel,
    carrying `S` across blocks, so a long record needs no T×T matrix.
    """
    samples = x.shape[-1]
    lags = torch.arange(min(samples, block), dtype=torch.float64)
    lag = lags[None, :] - lags[:, None]
    kernel = torch.where(lag >= 0, decay ** lag.clamp(min=0), 0.0).to(x.dtype)
    carried = (decay ** (lags + 1)).to(x.dtype)
    sums, carry = [], None
    for start in range(0, samples, block):
        chunk = x[..., start : start + block]
        width = chunk.shape[-1]
        total = chunk @ kernel[:width, :width]
        if carry is not None:
            total = total + carry[..., None] * carried[:width]
        carry = total[..., -1]
        sums.append(total)
    seen = torch.arange(samples, dtype=torch.float64)
    normaliser = ((1 - decay ** (seen + 1)) / (1 - decay)).to(x.dtype)
    return torch.cat(sums, dim=-1) / normaliser


# relative weight below which the exported graph cuts the running mean's history (see `truncated_causal_mean`)
HISTORY_CUTOFF = 1e-7


def history_taps(decay: float) -> int:
    """Taps of the exported running mean: the history whose weight `decay^k` stays above `HISTORY_CUTOFF`."""
    return max(1, math.ceil(math.log(HISTORY_CUTOFF) / math.log(decay)))


def truncated_causal_mean(x: torch.Tensor, decay: float) -> torch.Tensor:
    """`causal_mean` as an ONNX graph can say it for any length: a causal depthwise convolution with the decay
    kernel, cut after `history_taps(decay)` samples, divided by the same convolution of ones. The cut history
    weighs less than `HISTORY_CUTOFF` of the mean, so this agrees with the recurrences a stream runs to about that
    fraction; it serves the exported reference, while training and streaming use the exact forms.
    """
    taps = history_taps(decay)
    kernel = torch.from_numpy(decay ** np.arange(taps - 1, -1, -1, dtype=np.float64)).to(x.dtype)[None, None, :]
    # every channel as a batch row of one single-channel convolution: the graph then holds the kernel once
    rows = x.reshape(-1, 1, x.shape[-1])
    sums = F.conv1d(F.pad(rows, (taps - 1, 0)), kernel).reshape(x.shape)
    weights = F.conv1d(F.pad(torch.ones_like(rows[:1]), (taps - 1, 0)), kernel)
    return sums / weights


def decay_for(time_constant_samples: float) -> float:
    """The per-sample decay of a running mean with this time constant."""
    if not time_constant_samples >= 1:
        raise ValueError(f"a running mean's time constant must be at least one sample, got {time_constant_samples}")
    return 1.0 - 1.0 / time_constant_samples


class StreamingIncepSE(IncepSE):
    """IncepSE made causal, so that a stream can be served sample by sample with a fixed state.

    The same modules and parameter shapes as `IncepSE` (its weights load as they are), computed differently:
    - every convolution's taps on the present and past (`k − 1` samples of left padding instead of `k // 2` each
      side) and the max-pool branch over the present and two past samples;
    - each squeeze-and-excitation gate computed at every sample from `causal_mean` of the module output, instead
      of one gate from the mean over the whole window;
    - the head on `causal_mean` of the last module's output, giving logits at every sample.
    The logits at sample t depend only on samples ≤ t, and not on how a stream is cut into reads or hops.
    `[B][leads][T]` → `[B][classes][T]`.
    """

    def __init__(self, classes: int, time_constant_samples: float, **kwargs):
        super().__init__(classes, **kwargs)
        self.time_constant_samples = float(time_constant_samples)
        self.decay = decay_for(self.time_constant_samples)
        # set while exporting: the running means as convolutions, which an ONNX graph can express for any length
        self.exporting = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        for i, (module, excitation) in enumerate(zip(self.inception, self.excitation)):
            x = self._gated(excitation, self._module(module, x))
            if i % 3 == 2:
                x = F.relu(x + self.shortcuts[i // 3](residual))
                residual = x
        pooled = self._running_mean(x)
        return self.head(pooled.transpose(1, 2)).transpose(1, 2)

    @staticmethod
    def _module(module: InceptionModule, x: torch.Tensor) -> torch.Tensor:
        squeezed = module.bottleneck(x)
        branches = [F.conv1d(F.pad(squeezed, (conv.kernel_size[0] - 1, 0)), conv.weight) for conv in module.convs]
        pooled = F.max_pool1d(F.pad(x, (2, 0), value=-math.inf), 3, stride=1)
        return F.relu(module.bn(torch.cat(branches + [module.pool_conv(pooled)], dim=1)))

    def _running_mean(self, x: torch.Tensor) -> torch.Tensor:
        return truncated_causal_mean(x, self.decay) if self.exporting else causal_mean(x, self.decay)

    def _gated(self, excitation: SqueezeExcite, x: torch.Tensor) -> torch.Tensor:
        means = self._running_mean(x).transpose(1, 2)
        gates = torch.sigmoid(excitation.excite(F.relu(excitation.squeeze(means))))
        return x * gates.transpose(1, 2)


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
