"""Artefacts a monitored patient's ECG carries, added to training crops on the fly.

Every artefact is added in millivolts, before preprocessing, at the model's rate (100 Hz), except lead masking,
which the daemon applies after preprocessing: a lead that is off has its standardised model input set to 0
(`ecg.lead_masking` = `zero-standardized`), so the augmenter returns the masked leads and the trainer zeroes them
after standardisation. Every draw comes from the caller's `torch.Generator` (CPU), one generator per run, so a
resumed run sees the same artefacts as an uninterrupted one; each artefact is drawn for every crop and applied to
the crops its probability selects, so the generator advances the same way whatever is selected.

Ranges (docs/training.md lists them with the reasons):
- `wander`: baseline wander, a sum of `WANDER_SINUSOIDS` sinusoids of 0.05-0.5 Hz, half shared by all leads and half
  per lead, peak amplitude drawn uniformly up to 1 mV.
- `emg`: muscle noise, Gaussian noise band-limited to 10-45 Hz, at an SNR drawn uniformly in 0-24 dB relative to each
  lead's signal power over the clean crop.
- `motion`: electrode motion, a smoothed random walk (peak up to 0.5 mV) plus, per lead, a step that decays
  exponentially (0.2-1 mV, time constant 0.2-1 s) with probability 0.3 and a two-sample spike (0.5-2 mV) with
  probability 0.2.
- `powerline`: mains interference as the 100 Hz model rate sees it: 50 Hz sits exactly at Nyquist (samples
  alternate in sign, a ±A·sin φ square-ish wave) and 60 Hz aliases to 40 Hz; amplitude up to 0.2 mV per lead.
- `scale`: per-lead gain drawn log-uniformly in 0.5-2 (electrode contact, body position, device gain).
- `mask`: 1 or 2 random leads zeroed after standardisation (a lead that is off).
"""

from __future__ import annotations

import math

import torch

from .data import SAMPLE_RATE_HZ

AUGMENTATIONS = ("wander", "emg", "motion", "powerline", "scale", "mask")
# chance that a crop gets each artefact; independent, so about 15 % of crops stay clean
PROBABILITY = {"wander": 0.3, "emg": 0.3, "motion": 0.2, "powerline": 0.2, "scale": 0.3, "mask": 0.2}

WANDER_HZ = (0.05, 0.5)
WANDER_MAX_MV = 1.0
WANDER_SINUSOIDS = 3
EMG_SNR_DB = (0.0, 24.0)
EMG_BAND_HZ = (10.0, 45.0)
MOTION_WALK_MAX_MV = 0.5
MOTION_SMOOTHING_SECONDS = 0.2
MOTION_STEP_PROBABILITY = 0.3
MOTION_STEP_MV = (0.2, 1.0)
MOTION_STEP_DECAY_SECONDS = (0.2, 1.0)
MOTION_SPIKE_PROBABILITY = 0.2
MOTION_SPIKE_MV = (0.5, 2.0)
POWERLINE_HZ = (50.0, 60.0)
POWERLINE_MAX_MV = 0.2
SCALE_GAIN = (0.5, 2.0)
MASK_LEADS = (1, 2)


def parse_augmentations(text: str) -> tuple[str, ...]:
    """`all`, `none`/empty, or a comma-separated subset of `AUGMENTATIONS`, returned in `AUGMENTATIONS` order."""
    text = text.strip()
    if text in ("", "none"):
        return ()
    if text == "all":
        return AUGMENTATIONS
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; expected 'all' or some of {', '.join(AUGMENTATIONS)}")
    return tuple(name for name in AUGMENTATIONS if name in names)


def _uniform(shape, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


def _seconds(samples: int) -> torch.Tensor:
    return torch.arange(samples, dtype=torch.float32) / SAMPLE_RATE_HZ


def sinusoid(samples: int, frequency_hz: torch.Tensor, amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """`amplitude · sin(2π f t + phase)` sampled at the model rate; the parameters broadcast, time is a new last axis."""
    angle = 2 * math.pi * frequency_hz[..., None] * _seconds(samples) + phase[..., None]
    return amplitude[..., None] * torch.sin(angle)


def baseline_wander(batch: int, leads: int, samples: int, generator: torch.Generator) -> torch.Tensor:
    """Random wander `[batch][leads][samples]` (mV), peak at most `WANDER_MAX_MV`: half a component shared by every
    lead (respiration moves the whole chest), half one per lead; each a sum of unit-peak-normalised sinusoids."""

    def component(shape) -> torch.Tensor:
        frequency = _uniform((*shape, WANDER_SINUSOIDS), *WANDER_HZ, generator)
        phase = _uniform((*shape, WANDER_SINUSOIDS), 0.0, 2 * math.pi, generator)
        weight = torch.rand((*shape, WANDER_SINUSOIDS), generator=generator)
        weight = weight / weight.sum(dim=-1, keepdim=True)
        return sinusoid(samples, frequency, weight, phase).sum(dim=-2)

    shared = component((batch, 1))
    own = component((batch, leads))
    peak = _uniform((batch, 1, 1), 0.0, WANDER_MAX_MV, generator)
    return peak * 0.5 * (shared + own)


def band_limited_noise(shape, band_hz: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise limited to `band_hz` (an FFT mask over the last axis), scaled to unit power per series."""
    samples = shape[-1]
    white = torch.randn(shape, generator=generator)
    spectrum = torch.fft.rfft(white, dim=-1)
    frequency = torch.fft.rfftfreq(samples, d=1.0 / SAMPLE_RATE_HZ)
    spectrum = spectrum * ((frequency >= band_hz[0]) & (frequency <= band_hz[1]))
    noise = torch.fft.irfft(spectrum, n=samples, dim=-1)
    return noise / noise.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp_min(1e-12)


def signal_power(millivolts: torch.Tensor) -> torch.Tensor:
    """Power of each lead about its mean over the last axis (mV²), keeping that axis."""
    centred = millivolts - millivolts.mean(dim=-1, keepdim=True)
    return centred.pow(2).mean(dim=-1, keepdim=True)


def muscle_noise(millivolts: torch.Tensor, snr_db: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Band-limited (`EMG_BAND_HZ`) noise for `millivolts` `[..., samples]` at `snr_db` (broadcast per lead) below
    each lead's signal power: noise power = signal power / 10^(snr/10)."""
    unit = band_limited_noise(millivolts.shape, EMG_BAND_HZ, generator)
    scale = (signal_power(millivolts) / torch.pow(10.0, snr_db / 10.0)[..., None]).sqrt()
    return unit * scale


def electrode_motion(batch: int, leads: int, samples: int, generator: torch.Generator) -> torch.Tensor:
    """Random electrode-motion artefact `[batch][leads][samples]` (mV): a smoothed random walk, occasional decaying
    steps (an electrode shifting) and two-sample spikes (a cable knock)."""
    steps = torch.randn((batch, leads, samples), generator=generator)
    walk = torch.cumsum(steps, dim=-1)
    width = max(1, round(MOTION_SMOOTHING_SECONDS * SAMPLE_RATE_HZ))
    walk = torch.nn.functional.avg_pool1d(walk, width, stride=1, padding=width // 2, count_include_pad=False)
    walk = walk[..., :samples]
    walk = walk - walk.mean(dim=-1, keepdim=True)
    walk = walk / walk.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12)
    walk = walk * _uniform((batch, leads, 1), 0.0, MOTION_WALK_MAX_MV, generator)

    time = torch.arange(samples, dtype=torch.float32)
    sign = torch.where(torch.rand((batch, leads, 1), generator=generator) < 0.5, -1.0, 1.0)
    onset = torch.randint(0, samples, (batch, leads, 1), generator=generator)
    size = sign * _uniform((batch, leads, 1), *MOTION_STEP_MV, generator)
    decay = _uniform((batch, leads, 1), *MOTION_STEP_DECAY_SECONDS, generator) * SAMPLE_RATE_HZ
    after = (time - onset).clamp_min(0.0)
    has_step = torch.rand((batch, leads, 1), generator=generator) < MOTION_STEP_PROBABILITY
    step = torch.where((time >= onset) & has_step, size * torch.exp(-after / decay), 0.0)

    spike_at = torch.randint(0, samples - 1, (batch, leads, 1), generator=generator)
    spike_size = sign * _uniform((batch, leads, 1), *MOTION_SPIKE_MV, generator)
    has_spike = torch.rand((batch, leads, 1), generator=generator) < MOTION_SPIKE_PROBABILITY
    at_spike = (time == spike_at) | (time == spike_at + 1)
    spike = torch.where(at_spike & has_spike, spike_size, 0.0)
    return walk + step + spike


def powerline(
    samples: int, mains_hz: torch.Tensor, amplitude_mv: torch.Tensor, phase: torch.Tensor
) -> torch.Tensor:
    """Mains interference sampled at the model rate: `sinusoid` at `mains_hz`, which sampling folds (50 Hz onto
    Nyquist, 60 Hz onto 40 Hz)."""
    return sinusoid(samples, mains_hz, amplitude_mv, phase)


def random_powerline(batch: int, leads: int, samples: int, generator: torch.Generator) -> torch.Tensor:
    """Random mains `[batch][leads][samples]` (mV): 50 or 60 Hz per crop, amplitude and phase per lead."""
    mains = torch.where(torch.rand((batch, 1), generator=generator) < 0.5, *map(torch.tensor, POWERLINE_HZ))
    amplitude = _uniform((batch, leads), 0.0, POWERLINE_MAX_MV, generator)
    phase = _uniform((batch, leads), 0.0, 2 * math.pi, generator)
    return powerline(samples, mains.expand(batch, leads), amplitude, phase)


def random_masks(batch: int, leads: int, generator: torch.Generator) -> torch.Tensor:
    """`[batch][leads]` booleans, `MASK_LEADS` (1 or 2, equally likely) distinct random leads True per crop."""
    order = torch.rand((batch, leads), generator=generator).argsort(dim=1)
    count = torch.randint(MASK_LEADS[0], MASK_LEADS[1] + 1, (batch, 1), generator=generator)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(leads).expand(batch, leads).contiguous())
    return rank < count


class Augmenter:
    """Applies the chosen artefacts, each to the crops its probability selects."""

    def __init__(self, names: tuple[str, ...], probability: dict[str, float] | None = None):
        self.names = names
        self.probability = PROBABILITY | (probability or {})

    def __call__(self, millivolts: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Adds artefacts to crops `[batch][leads][samples]` (mV, any device).

        - Returns: the crops with artefacts (mV), and `[batch][leads]` booleans: the leads to zero after
          standardisation (all False without `mask`).
        """
        device = millivolts.device
        batch, leads, samples = millivolts.shape
        clean = millivolts.cpu()
        x = clean
        masked = torch.zeros((batch, leads), dtype=torch.bool)
        for name in self.names:
            chosen = torch.rand(batch, generator=generator) < self.probability[name]
            if name == "mask":
                masked = random_masks(batch, leads, generator) & chosen[:, None]
                continue
            selected = chosen[:, None, None]
            if name == "wander":
                x = x + torch.where(selected, baseline_wander(batch, leads, samples, generator), 0.0)
            elif name == "emg":
                snr = _uniform((batch, 1), *EMG_SNR_DB, generator).expand(batch, leads)
                x = x + torch.where(selected, muscle_noise(clean, snr, generator), 0.0)
            elif name == "motion":
                x = x + torch.where(selected, electrode_motion(batch, leads, samples, generator), 0.0)
            elif name == "powerline":
                x = x + torch.where(selected, random_powerline(batch, leads, samples, generator), 0.0)
            elif name == "scale":
                gain = torch.exp(_uniform((batch, leads, 1), *map(math.log, SCALE_GAIN), generator))
                x = torch.where(selected, x * gain, x)
        return x.to(device), masked.to(device)
