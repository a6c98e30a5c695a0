"""Training machinery on the real sample records: loss goes down, seeds reproduce, resuming is exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgtrain.model import StreamingIncepSE
from ecgtrain.train import (
    CHECKPOINT,
    Trainer,
    TrainConfig,
    class_weights,
    learning_rate_factor,
    positive_weights,
    random_crops,
)


def small(**changes) -> TrainConfig:
    settings = dict(task="superdiagnostic", epochs=2, batch_size=4, warmup_epochs=0.5, learning_rate=0.003)
    return TrainConfig(**(settings | changes))


def test_a_few_steps_lower_the_loss_on_real_records(training_data, tmp_path):
    trainer = Trainer(small(epochs=8, learning_rate=0.01), training_data, tmp_path)
    history = trainer.run(progress=False)
    assert history[-1]["train_loss"] < 0.8 * history[0]["train_loss"]
    assert (tmp_path / "best.pt").is_file() and (tmp_path / CHECKPOINT).is_file()


def test_the_same_seed_gives_the_same_weights(training_data, tmp_path):
    first = Trainer(small(), training_data, tmp_path / "a")
    first.run(progress=False)
    second = Trainer(small(), training_data, tmp_path / "b")
    second.run(progress=False)
    other = Trainer(small(seed=1), training_data, tmp_path / "c")
    other.run(progress=False)
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name]), name
    assert not torch.equal(first.model.head.weight, other.model.head.weight)


def test_resume_continues_exactly(training_data, tmp_path):
    straight = Trainer(small(epochs=3), training_data, tmp_path / "straight")
    straight.run(progress=False)
    interrupted = Trainer(small(epochs=3), training_data, tmp_path / "resumed")
    interrupted.run(progress=False, stop_after=1)
    resumed = Trainer(small(epochs=3), training_data, tmp_path / "resumed")
    resumed.resume(tmp_path / "resumed" / CHECKPOINT)
    assert resumed.epoch == 1
    resumed.run(progress=False)
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert [h["train_loss"] for h in straight.history] == [h["train_loss"] for h in resumed.history]


def test_resume_refuses_a_checkpoint_of_other_settings(training_data, tmp_path):
    Trainer(small(epochs=1), training_data, tmp_path).run(progress=False)
    with pytest.raises(ValueError, match="different settings"):
        Trainer(small(epochs=3), training_data, tmp_path).resume(tmp_path / CHECKPOINT)


def test_learning_rate_warms_up_linearly_then_decays_by_cosine():
    factors = [learning_rate_factor(step, 4, 12) for step in range(13)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert math.isclose(factors[8], 0.5) and factors[12] == 0.0
    assert all(a >= b for a, b in zip(factors[3:], factors[4:]))


def test_positive_weights_soften_the_inverse_frequency():
    labels = np.array([[1, 1], [0, 1], [0, 1], [0, 0], [0, 1]])
    assert positive_weights(labels, "none") is None
    assert np.allclose(positive_weights(labels, "sqrt"), [2.0, 0.5])
    with pytest.raises(ValueError, match="pos_weight"):
        positive_weights(labels, "inverse")


def test_crops_are_cut_at_each_records_own_offset():
    records = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10)
    crops = random_crops(records, torch.tensor([1, 0, 1]), torch.tensor([0, 4, 6]), 4)
    assert torch.equal(crops[0], records[1, :, 0:4])
    assert torch.equal(crops[1], records[0, :, 4:8])
    assert torch.equal(crops[2], records[1, :, 6:10])


def test_too_few_records_for_a_batch_is_an_error(training_data, tmp_path):
    with pytest.raises(ValueError, match="fewer than one batch"):
        Trainer(small(batch_size=64), training_data, tmp_path)


def test_class_weights_weigh_the_named_classes_and_refuse_unknown_ones():
    assert class_weights(["NORM", "AFIB"], "") is None
    assert list(class_weights(["NORM", "AFIB", "INJAS"], "AFIB=4,INJAS=2.5")) == [1.0, 4.0, 2.5]
    with pytest.raises(ValueError, match="no class 'AFIBB'"):
        class_weights(["AFIB"], "AFIBB=4")
    for spec in ("AFIB=0", "AFIB=x", "AFIB", "AFIB=nan"):
        with pytest.raises(ValueError, match="positive weight"):
            class_weights(["AFIB"], spec)


def test_a_streaming_run_trains_on_readouts_and_validates_as_streamed(training_data, tmp_path):
    config = small(architecture="streaming", window_samples=400, hop_samples=50, time_constant_samples=100)
    trainer = Trainer(config, training_data, tmp_path)
    assert trainer.readouts == [249, 299, 349, 399]
    history = trainer.run(progress=False)
    assert isinstance(trainer.model, StreamingIncepSE) and len(history) == 2
    assert math.isfinite(history[-1]["train_loss"])


def test_an_unknown_architecture_is_refused(training_data, tmp_path):
    with pytest.raises(ValueError, match="unknown architecture 'recurrent'"):
        Trainer(small(architecture="recurrent"), training_data, tmp_path)


def test_a_run_continues_from_another_runs_checkpoint(training_data, tmp_path):
    Trainer(small(epochs=1), training_data, tmp_path / "first").run(progress=False)
    saved = torch.load(tmp_path / "first" / "best.pt", map_location="cpu", weights_only=True)
    for architecture in ("windowed", "streaming"):
        config = small(init_from=str(tmp_path / "first" / "best.pt"), architecture=architecture)
        continued = Trainer(config, training_data, tmp_path / architecture)
        # whole BatchNorms, so no shortcut is re-expressed: every tensor is the checkpoint's
        for name, tensor in continued.model.state_dict().items():
            assert torch.equal(tensor, saved["model"][name]), name
        assert continued.preprocessing.mean == saved["preprocessing"]["mean"]


def test_a_pt_file_that_is_not_a_model_checkpoint_is_refused(training_data, tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt: not a run's model checkpoint"):
        Trainer(small(init_from=str(tmp_path / "other.pt")), training_data, tmp_path / "run")
