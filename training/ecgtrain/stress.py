"""Windows of whole records scored by an exported model, clean or under a fixed stress, as the daemon would see them.

A model file is scored with ONNX Runtime and only its own metadata (preprocessing), so the numbers hold for the file
that ships. A stress is added to each record in millivolts before preprocessing, drawn from a generator seeded by
the stress's name, so every model sees the very same noisy records:
- `clean`: the record as recorded;
- `wander`: a 0.3 Hz sinusoid of 0.5 mV amplitude on every lead (random phase per record), breathing-like wander;
- `emg6`, `emg0`: band-limited muscle noise (`augment.EMG_BAND_HZ`) at 6 dB and 0 dB SNR per lead;
- `mask-<lead>`: that lead's standardised input set to 0 (the daemon's lead masking).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from .augment import muscle_noise, sinusoid
from .data import LEADS
from .evaluate import stream_readouts, window_starts
from .export import STREAMING_ARCHITECTURE
from .model import Preprocessing
from .onnx_weights import load_streaming_onnx

STRESSES = ("clean", "wander", "emg6", "emg0") + tuple(f"mask-{lead}" for lead in LEADS)
WANDER_STRESS_HZ = 0.3
WANDER_STRESS_MV = 0.5
# windows per ONNX Runtime call: large enough to amortise the call, small enough to stay in cache-sized memory
BATCH_WINDOWS = 512


def scoring_session(path: str | Path) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session for long scoring runs on a shared machine: one thread that sleeps rather than spins
    when idle, which gets more done per CPU second than several spinning threads competing with other work."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxScorer:
    """An exported model under ONNX Runtime (CPU) with the preprocessing its metadata names.

    A streaming model (docs/model-format.md) is read back into PyTorch from the file's own parameters and scored
    with its exact running means: its graph's cut 4,000-tap convolutions would take ONNX Runtime minutes per fold.
    Its "windows" are its readouts at the samples where the windows would end, as the daemon reads it.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.session = scoring_session(self.path)
        metadata = self.session.get_modelmeta().custom_metadata_map
        steps = json.loads(metadata["ecg.preprocessing"])
        if [step["op"] for step in steps] != ["standardize"]:
            raise ValueError(f"{path}: preprocessing {[step['op'] for step in steps]}; only standardize is scored")
        self.preprocessing = Preprocessing(mean=steps[0]["mean"], std=steps[0]["std"])
        self.classes = [entry["code"] for entry in json.loads(metadata["ecg.classes"])]
        self.streaming = (
            load_streaming_onnx(self.path) if metadata.get("ecg.architecture") == STREAMING_ARCHITECTURE else None
        )
        self.digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]

    def window_probabilities(self, inputs: np.ndarray, window: int, hop: int) -> np.ndarray:
        """Probabilities `[records][windows][classes]` (float32) of preprocessed records `[records][leads][samples]`,
        windows of `window` samples every `hop` from the start."""
        if self.streaming is not None:
            logits = stream_readouts(self.streaming, torch.from_numpy(np.ascontiguousarray(inputs)), window, hop)
            return torch.sigmoid(logits.double()).permute(0, 2, 1).numpy().astype(np.float32)
        starts = window_starts(inputs.shape[2], window, hop)
        windows = np.stack([inputs[:, :, start : start + window] for start in starts], axis=1)
        flat = windows.reshape(-1, inputs.shape[1], window)
        logits = np.concatenate(
            [
                self.session.run(["logits"], {"input": np.ascontiguousarray(flat[i : i + BATCH_WINDOWS])})[0]
                for i in range(0, len(flat), BATCH_WINDOWS)
            ]
        )
        probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return probabilities.reshape(len(inputs), len(starts), -1).astype(np.float32)


def stressed_inputs(millivolts: np.ndarray, stress: str, preprocessing: Preprocessing) -> np.ndarray:
    """Preprocessed model inputs of records `[records][leads][samples]` (mV) under `stress` (one of `STRESSES`)."""
    generator = torch.Generator().manual_seed(int(hashlib.sha256(stress.encode()).hexdigest()[:8], 16))
    records = torch.from_numpy(np.asarray(millivolts, dtype=np.float32))
    count, leads, samples = records.shape
    masked_lead = None
    if stress == "wander":
        phase = 2 * math.pi * torch.rand((count, 1), generator=generator)
        records = records + sinusoid(samples, torch.tensor(WANDER_STRESS_HZ), torch.tensor(WANDER_STRESS_MV), phase)
    elif stress in ("emg6", "emg0"):
        snr = torch.full((count, leads), float(stress.removeprefix("emg")))
        records = records + muscle_noise(records, snr, generator)
    elif stress.startswith("mask-"):
        name = stress.removeprefix("mask-")
        if name not in LEADS:
            raise ValueError(f"unknown lead '{name}' in stress '{stress}'")
        masked_lead = LEADS.index(name)
    elif stress != "clean":
        raise ValueError(f"unknown stress '{stress}'; expected one of {', '.join(STRESSES)}")
    inputs = preprocessing.apply(records.numpy())
    if masked_lead is not None:
        inputs[:, masked_lead, :] = 0.0
    return inputs


def cached_window_probabilities(
    scorer: OnnxScorer, millivolts: np.ndarray, stress: str, window: int, hop: int, cache: Path, key: str
) -> np.ndarray:
    """`scorer.window_probabilities` of the stressed records, kept in `cache` under the model's digest and `key`
    (which names the records), so that a report can be rebuilt without scoring again."""
    path = Path(cache) / f"{scorer.digest}-{key}-{stress}-w{window}-h{hop}.npy"
    if path.is_file():
        return np.load(path)
    probabilities = scorer.window_probabilities(stressed_inputs(millivolts, stress, scorer.preprocessing), window, hop)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, probabilities)
    return probabilities
