"""Training: random 2.5 s crops, AdamW, gradient clipping, warm-up then cosine decay, checkpoints every epoch.

The preprocessed training set lives on the training device and crops are cut there, so a GPU is never starved by
data loading. Everything random draws from one seeded generator whose state is checkpointed with the model, the
optimiser and the schedule: a run resumed from any epoch ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .augment import Augmenter, parse_augmentations
from .data import TRAIN_FOLDS, VALIDATION_FOLDS, PtbXl, Split
from .evaluate import macro_auroc, predict_records, predict_streams, readout_samples
from .model import IncepSE, Preprocessing, StreamingIncepSE
from .onnx_weights import calibrate_shortcuts, load_onnx

CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"
HISTORY = "history.jsonl"
# the model of every epoch, beside best.pt, so an epoch other than the fold-9 AUROC's best can be chosen later
EPOCH_MODEL = "epoch-{}.pt"
# training records whose first window calibrates the shortcut BatchNorms of a model loaded from ONNX
CALIBRATION_RECORDS = 1024


@dataclass
class TrainConfig:
    """Every setting of a run; stored in its checkpoints so that a resumed run cannot silently change them."""

    task: str = "all"
    epochs: int = 50
    batch_size: int = 128
    learning_rate: float = 0.01
    weight_decay: float = 0.01
    warmup_epochs: float = 5.0
    clip_norm: float = 1.0
    window_samples: int = 250
    hop_samples: int = 125
    highpass_hz: float | None = None
    pos_weight: str = "none"
    seed: int = 0
    max_records: int | None = None
    # comma-separated names from augment.AUGMENTATIONS ("" = none), added to every training crop's millivolts
    augment: str = ""
    # an exported model (.onnx) or a run's model checkpoint (.pt: best.pt, epoch-N.pt) whose weights and
    # preprocessing the run starts from, instead of random ones
    init_from: str | None = None
    # "CODE=WEIGHT,...": classes whose loss (positives and negatives) counts WEIGHT times ("" = all equal)
    class_weight: str = ""
    # "windowed": IncepSE on crops of window_samples, validated on windows every hop_samples; "streaming": the
    # causal StreamingIncepSE on crops of window_samples, trained and validated on its logits read every
    # hop_samples from readout_first_samples in, as the daemon reads a stream
    architecture: str = "windowed"
    time_constant_samples: float = 250.0
    readout_first_samples: int = 250


def build_model(config: TrainConfig, classes: int) -> IncepSE:
    """The untrained network a configuration names."""
    if config.architecture == "streaming":
        return StreamingIncepSE(classes, config.time_constant_samples)
    if config.architecture != "windowed":
        raise ValueError(f"unknown architecture '{config.architecture}'; expected windowed or streaming")
    return IncepSE(classes)


def model_from_checkpoint(checkpoint: dict) -> IncepSE:
    """The network a run's model checkpoint (`best.pt`, `epoch-N.pt`, loaded) holds, with its weights."""
    model = build_model(TrainConfig(**checkpoint["config"]), len(checkpoint["classes"]))
    model.load_state_dict(checkpoint["model"])
    return model


def class_weights(classes: list[str], spec: str) -> np.ndarray | None:
    """The loss weight of every class from "CODE=WEIGHT,..." (others 1); None for an empty spec.

    Raises ValueError naming an unknown class or a weight that is not a positive number."""
    if not spec:
        return None
    weights = np.ones(len(classes))
    for item in spec.split(","):
        code, _, value = item.partition("=")
        if code not in classes:
            raise ValueError(f"--class-weight: the task has no class '{code}'")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not weight > 0 or not np.isfinite(weight):
            raise ValueError(f"--class-weight: '{item}' needs a positive weight, e.g. {code}=4")
        weights[classes.index(code)] = weight
    return weights


def seed_everything(seed: int) -> None:
    """Seeds every generator and asks for deterministic kernels (cuDNN and cuBLAS included)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    # warn_only: an op without a deterministic CUDA kernel should be reported, not end a long run
    torch.use_deterministic_algorithms(True, warn_only=True)


def positive_weights(labels: np.ndarray, mode: str) -> np.ndarray | None:
    """BCE `pos_weight` per class from training label frequencies.

    `none`: unweighted. `sqrt`: √(negatives / positives), a softened inverse frequency, capped at 100.
    """
    if mode == "none":
        return None
    if mode != "sqrt":
        raise ValueError(f"unknown pos_weight mode '{mode}'; expected none or sqrt")
    positives = labels.sum(axis=0).astype(np.float64)
    negatives = len(labels) - positives
    return np.minimum(np.sqrt(negatives / np.maximum(positives, 1.0)), 100.0)


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up from 1/warmup to 1, then cosine decay to 0 at `total_steps`."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def random_crops(records: torch.Tensor, index: torch.Tensor, starts: torch.Tensor, window: int) -> torch.Tensor:
    """Cuts `records[index[b], :, starts[b] : starts[b] + window]` for every b, on the records' device."""
    chosen = records[index]
    positions = starts[:, None] + torch.arange(window, device=records.device)[None, :]
    return torch.gather(chosen, 2, positions[:, None, :].expand(-1, chosen.shape[1], -1))


class Trainer:
    """One training run in `out_dir`: builds or resumes the state, then trains epoch by epoch."""

    def __init__(self, config: TrainConfig, data: PtbXl, out_dir: str | Path, device: str = "cpu"):
        self.config = config
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(device)
        seed_everything(config.seed)

        train = data.split(config.task, TRAIN_FOLDS)
        validation = data.split(config.task, VALIDATION_FOLDS)
        if config.max_records:
            train = _first(train, config.max_records)
            validation = _first(validation, config.max_records)
        self.classes, self.descriptions = train.classes, train.descriptions
        self.train_positives = train.labels.sum(axis=0).tolist()
        train_millivolts = train.millivolts()
        initial = load_initial(config.init_from) if config.init_from else None
        if initial is not None:
            if initial.classes != self.classes:
                raise ValueError(f"{config.init_from} has classes {initial.classes}, the task has {self.classes}")
            if config.highpass_hz or initial.preprocessing.sos is not None:
                raise ValueError(f"{config.init_from}: fine-tuning needs a model that standardises only, no high-pass")
            # the loaded weights expect the statistics they were trained with
            self.preprocessing = initial.preprocessing
        else:
            self.preprocessing = Preprocessing.fit(train_millivolts, config.highpass_hz)
        self.augmenter = Augmenter(parse_augmentations(config.augment)) if config.augment else None
        if self.augmenter and self.preprocessing.sos is not None:
            # crops are turned back into millivolts by inverting the standardisation, which a filter would break
            raise ValueError("augmentations need preprocessing without a high-pass filter")
        self.train_x = torch.from_numpy(self.preprocessing.apply(train_millivolts)).to(self.device)
        del train_millivolts
        self.train_y = torch.from_numpy(train.labels.astype(np.float32)).to(self.device)
        self.validation_x = torch.from_numpy(self.preprocessing.apply(validation.millivolts())).to(self.device)
        self.validation_y = validation.labels

        self.model = build_model(config, len(self.classes))
        if initial is not None:
            if initial.folded_shortcuts:
                calibrate_shortcuts(initial.model, self.train_x[:CALIBRATION_RECORDS, :, : config.window_samples].cpu())
            # the streaming network has the windowed one's parameters, so either starts from the other's weights
            self.model.load_state_dict(initial.model.state_dict())
        self.model.to(self.device)
        self.readouts = (
            readout_samples(config.window_samples, config.readout_first_samples, config.hop_samples)
            if config.architecture == "streaming"
            else None
        )
        self.mean = torch.tensor(self.preprocessing.mean, dtype=torch.float32, device=self.device)[:, None]
        self.std = torch.tensor(self.preprocessing.std, dtype=torch.float32, device=self.device)[:, None]
        weights = positive_weights(train.labels, config.pos_weight)
        pos_weight = None if weights is None else torch.tensor(weights, dtype=torch.float32, device=self.device)
        per_class = class_weights(self.classes, config.class_weight)
        self.loss = nn.BCEWithLogitsLoss(
            pos_weight=pos_weight,
            weight=None if per_class is None else torch.tensor(per_class, dtype=torch.float32, device=self.device),
        )
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.steps_per_epoch = len(self.train_x) // config.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"{len(self.train_x)} training records are fewer than one batch of {config.batch_size}")
        total = config.epochs * self.steps_per_epoch
        warmup = max(1, round(config.warmup_epochs * self.steps_per_epoch))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(step, warmup, total)
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.epoch = 0
        self.best_auroc = -math.inf
        self.history: list[dict] = []

    def resume(self, path: str | Path) -> None:
        """Continues from a checkpoint written by this class with the same configuration."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state["config"] != asdict(self.config):
            raise ValueError(f"{path} was written with different settings: {state['config']}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.epoch, self.best_auroc, self.history = state["epoch"], state["best_auroc"], state["history"]

    def run(self, progress: bool = True, stop_after: int | None = None) -> list[dict]:
        """Trains the remaining epochs (or up to epoch `stop_after`), checkpointing after each; returns the history."""
        config = self.config
        last = config.epochs if stop_after is None else min(stop_after, config.epochs)
        while self.epoch < last:
            started = time.time()
            train_loss = self._train_epoch(progress)
            probabilities = self._validation_probabilities()
            auroc = macro_auroc(self.validation_y, probabilities)
            self.epoch += 1
            record = {
                "epoch": self.epoch,
                "train_loss": train_loss,
                "validation_macro_auroc": auroc,
                "learning_rate": self.scheduler.get_last_lr()[0],
                "seconds": round(time.time() - started, 2),
            }
            self.history.append(record)
            # NaN (no class with both labels in the validation records) never counts as an improvement, but the
            # first epoch is always kept so that every run leaves a model behind
            score = -math.inf if math.isnan(auroc) else auroc
            if score > self.best_auroc or self.epoch == 1:
                self.best_auroc = max(self.best_auroc, score)
                self._save(self.out_dir / BEST, self._model_state())
            self._save(self.out_dir / EPOCH_MODEL.format(self.epoch), self._model_state())
            self._save(self.out_dir / CHECKPOINT, self._training_state())
            with open(self.out_dir / HISTORY, "a") as log:
                log.write(json.dumps(record) + "\n")
            tqdm.write(f"epoch {self.epoch}/{config.epochs}: loss {train_loss:.4f}, val AUROC {auroc:.4f}")
        return self.history

    def _train_epoch(self, progress: bool) -> float:
        config = self.config
        self.model.train()
        order = torch.randperm(len(self.train_x), generator=self.generator)
        starts = torch.randint(
            0, self.train_x.shape[2] - config.window_samples + 1, (len(self.train_x),), generator=self.generator
        )
        total = torch.zeros((), device=self.device)
        bar = tqdm(range(self.steps_per_epoch), desc=f"epoch {self.epoch + 1}", disable=not progress, leave=False)
        for step in bar:
            batch = order[step * config.batch_size : (step + 1) * config.batch_size]
            crops = random_crops(
                self.train_x, batch.to(self.device), starts[batch].to(self.device), config.window_samples
            )
            if self.augmenter:
                crops = self._augmented(crops)
            loss = self._batch_loss(crops, self.train_y[batch.to(self.device)])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), config.clip_norm)
            self.optimizer.step()
            self.scheduler.step()
            total += loss.detach()
            if progress and step % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}", val_auroc=f"{self._last_auroc():.4f}")
        return float(total.item()) / self.steps_per_epoch

    def _batch_loss(self, crops: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Windowed: one prediction per crop. Streaming: every readout of the crop, each with the record's labels."""
        if self.readouts is None:
            return self.loss(self.model(crops), labels)
        logits = self.model(crops)[:, :, self.readouts].transpose(1, 2)
        return self.loss(logits, labels[:, None, :].expand_as(logits))

    def _validation_probabilities(self) -> np.ndarray:
        config = self.config
        if self.readouts is None:
            return predict_records(self.model, self.validation_x, config.window_samples, config.hop_samples)
        return predict_streams(self.model, self.validation_x, config.readout_first_samples, config.hop_samples)

    def _augmented(self, crops: torch.Tensor) -> torch.Tensor:
        """Standardised crops → millivolts → artefacts → standardised, masked leads set to 0 as the daemon does."""
        millivolts, masked = self.augmenter(crops * self.std + self.mean, self.generator)
        return ((millivolts - self.mean) / self.std).masked_fill(masked[:, :, None], 0.0)

    def _last_auroc(self) -> float:
        return self.history[-1]["validation_macro_auroc"] if self.history else float("nan")

    def _model_state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "config": asdict(self.config),
            "classes": self.classes,
            "descriptions": self.descriptions,
            "preprocessing": asdict(self.preprocessing),
            "train_positives": self.train_positives,
            "train_records": len(self.train_x),
            "epoch": self.epoch,
            "validation_macro_auroc": self.best_auroc,
            "history": self.history,
        }

    def _training_state(self) -> dict:
        return {
            **self._model_state(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "best_auroc": self.best_auroc,
        }

    @staticmethod
    def _save(path: Path, state: dict) -> None:
        # written beside and renamed, so an interrupted run never leaves a truncated checkpoint behind
        temporary = path.with_suffix(".tmp")
        torch.save(state, temporary)
        temporary.replace(path)


@dataclass
class InitialWeights:
    """What a run starts from with `init_from`: a network in evaluation mode, its preprocessing and classes."""

    model: IncepSE
    preprocessing: Preprocessing
    classes: list[str]
    # whether the shortcut BatchNorms come back folded from an ONNX export and need `calibrate_shortcuts`
    folded_shortcuts: bool


def load_initial(path: str | Path) -> InitialWeights:
    """The weights `init_from` names: an exported `.onnx` (`load_onnx`), or a `.pt` model checkpoint of a run
    (`best.pt`, `epoch-N.pt`), whose BatchNorms are whole, so that a run can continue another with a new schedule.

    - Throws: `FileNotFoundError` for a missing file, `ValueError` for a `.pt` that is not a run's model checkpoint.
    """
    path = Path(path)
    if path.suffix != ".pt":
        exported = load_onnx(path)
        return InitialWeights(exported.model, exported.preprocessing, exported.classes, folded_shortcuts=True)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing = {"model", "config", "classes", "preprocessing"} - set(state)
    if missing:
        raise ValueError(f"{path}: not a run's model checkpoint (no {', '.join(sorted(missing))})")
    model = model_from_checkpoint(state)
    model.eval()
    return InitialWeights(model, Preprocessing(**state["preprocessing"]), list(state["classes"]), folded_shortcuts=False)


def _first(split: Split, count: int) -> Split:
    """The first `count` records of a split (for quick dry runs)."""
    return Split(split.signals[:count], split.labels[:count], split.ecg_id[:count], split.classes, split.descriptions)
