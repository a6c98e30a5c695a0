"""Augmentations: each artefact has the size and spectrum it claims, masking hits exactly the chosen leads, and the
same generator state gives the same artefacts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgtrain.augment import (
    AUGMENTATIONS,
    MASK_LEADS,
    SCALE_GAIN,
    WANDER_MAX_MV,
    Augmenter,
    baseline_wander,
    electrode_motion,
    muscle_noise,
    parse_augmentations,
    powerline,
    random_masks,
    signal_power,
)


@pytest.fixture(scope="module")
def crops(sample_data) -> torch.Tensor:
    """2.5 s crops of the real sample records, in mV: `[11][12][250]`."""
    return torch.from_numpy(sample_data.signals[:, :, 300:550].astype(np.float32) / 1000.0)


def power_spectrum(x: torch.Tensor, taper: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and power; `taper`: a Hann window first, so a tone between bins does not leak far."""
    values = x.numpy() * (np.hanning(x.shape[-1]) if taper else 1.0)
    spectrum = np.abs(np.fft.rfft(values, axis=-1)) ** 2
    return np.fft.rfftfreq(x.shape[-1], d=0.01), spectrum


@pytest.mark.parametrize("snr_db", [0.0, 6.0, 24.0])
def test_muscle_noise_has_the_requested_snr_on_every_lead(crops, snr_db):
    noise = muscle_noise(crops, torch.full(crops.shape[:2], snr_db), torch.Generator().manual_seed(0))
    measured = 10 * torch.log10(signal_power(crops) / noise.pow(2).mean(dim=-1, keepdim=True))
    assert torch.allclose(measured, torch.full_like(measured, snr_db), atol=1e-3)


def test_muscle_noise_stays_in_its_band(crops):
    noise = muscle_noise(crops, torch.zeros(crops.shape[:2]), torch.Generator().manual_seed(1))
    frequency, spectrum = power_spectrum(noise)
    outside = spectrum[..., (frequency < 10.0) | (frequency > 45.0)].sum()
    assert outside < 1e-6 * spectrum.sum()


def test_baseline_wander_is_slow_and_at_most_one_millivolt():
    wander = baseline_wander(64, 12, 6000, torch.Generator().manual_seed(2))
    assert wander.abs().max() <= WANDER_MAX_MV + 1e-6
    assert wander.abs().amax(dim=(1, 2)).max() > 0.5 * WANDER_MAX_MV
    frequency, spectrum = power_spectrum(wander, taper=True)
    # 60 s at 100 Hz resolves 1/60 Hz; through a Hann window a 0.5 Hz tone leaks almost nothing beyond 1 Hz
    assert spectrum[..., frequency > 1.0].sum() < 1e-3 * spectrum.sum()
    # a shared component: leads of one crop move together more than leads of different crops
    same = np.corrcoef(wander[0].numpy()).mean()
    across = np.corrcoef(wander[:, 0].numpy()).mean()
    assert same > across


def test_powerline_at_the_model_rate_folds_50_hz_to_nyquist_and_60_hz_to_40_hz():
    phase = torch.tensor(0.7)
    fifty = powerline(100, torch.tensor(50.0), torch.tensor(0.1), phase)
    assert torch.allclose(fifty[0::2], torch.full((50,), 0.1 * math.sin(0.7)), atol=1e-5)
    assert torch.allclose(fifty[1::2], torch.full((50,), -0.1 * math.sin(0.7)), atol=1e-5)
    sixty = powerline(300, torch.tensor(60.0), torch.tensor(0.1), phase)
    forty = powerline(300, torch.tensor(40.0), torch.tensor(0.1), math.pi - phase)
    assert torch.allclose(sixty, forty, atol=1e-4)


def test_electrode_motion_is_bounded_and_differs_per_lead():
    motion = electrode_motion(32, 12, 250, torch.Generator().manual_seed(3))
    assert motion.abs().max() <= 0.5 + 1.0 + 2.0 + 1e-5  # walk + step + spike at their largest
    assert not torch.allclose(motion[:, 0], motion[:, 1])


def test_masks_choose_one_or_two_distinct_leads_per_crop():
    masks = random_masks(2000, 12, torch.Generator().manual_seed(4))
    counts = masks.sum(dim=1)
    assert set(counts.tolist()) == set(range(MASK_LEADS[0], MASK_LEADS[1] + 1))
    assert (masks.sum(dim=0) > 100).all()  # every lead gets masked


def test_only_masking_leaves_the_millivolts_alone_and_returns_the_chosen_leads(crops):
    out, masked = Augmenter(("mask",), {"mask": 1.0})(crops, torch.Generator().manual_seed(5))
    assert torch.equal(out, crops)
    assert ((masked.sum(dim=1) >= 1) & (masked.sum(dim=1) <= 2)).all()


def test_masked_leads_are_zero_in_the_training_input_and_the_rest_untouched(training_data, tmp_path):
    from ecgtrain.train import Trainer, TrainConfig

    config = TrainConfig(task="superdiagnostic", epochs=1, batch_size=4, augment="mask")
    trainer = Trainer(config, training_data, tmp_path)
    trainer.augmenter.probability["mask"] = 1.0
    crops = trainer.train_x[:6, :, :250]
    state = trainer.generator.get_state()
    augmented = trainer._augmented(crops)
    trainer.generator.set_state(state)
    _, masked = trainer.augmenter(crops * trainer.std + trainer.mean, trainer.generator)
    assert torch.equal(augmented[masked], torch.zeros_like(augmented[masked]))
    assert torch.allclose(augmented[~masked], crops[~masked], atol=1e-5)


def test_scaling_keeps_each_lead_within_its_gain_range(crops):
    out, _ = Augmenter(("scale",), {"scale": 1.0})(crops, torch.Generator().manual_seed(6))
    gain = out.abs().amax(dim=-1) / crops.abs().amax(dim=-1)
    assert (gain >= SCALE_GAIN[0] - 1e-5).all() and (gain <= SCALE_GAIN[1] + 1e-5).all()


def test_equal_seeds_give_equal_artefacts_and_other_seeds_others(crops):
    augmenter = Augmenter(AUGMENTATIONS)
    first = augmenter(crops, torch.Generator().manual_seed(7))
    second = augmenter(crops, torch.Generator().manual_seed(7))
    other = augmenter(crops, torch.Generator().manual_seed(8))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], other[0])


def test_augmentation_names_parse_in_a_fixed_order_and_unknown_ones_fail():
    assert parse_augmentations("all") == AUGMENTATIONS
    assert parse_augmentations("mask, wander") == ("wander", "mask")
    assert parse_augmentations("none") == ()
    with pytest.raises(ValueError, match="hum"):
        parse_augmentations("wander,hum")
