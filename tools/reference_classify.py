"""Classifies PTB-XL records the way the training pipeline evaluates them, so that a test can hold
`ecg-monitor classify` to the same numbers (Python and Swift must not drift apart).

Run from the repository root:
    .venv/bin/python tools/reference_classify.py --model models/ecg-incepse-all.onnx --hop-seconds 1.25 RECORD...
RECORD is a PTB-XL 100 Hz record, as a path without extension. Prints one JSON object:
`{"<record name>": {"window_starts": [...], "aggregate": [...]}}`, starts in samples, aggregate probabilities in
the model's class order.

Reading (`ecgtrain.data.read_record`), preprocessing (`ecgtrain.model.Preprocessing`, rebuilt from the model's
`ecg.preprocessing` metadata), windowing and the max over windows (`ecgtrain.evaluate.predict_records`) are the
training pipeline's own code. The network runs in ONNX Runtime on the same ONNX file; `ecgtrain export` refuses
to write a model unless ONNX Runtime reproduces PyTorch within 1e-5.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

from ecgtrain.data import GAIN_PER_MV, read_record  # noqa: E402
from ecgtrain.evaluate import predict_records, window_starts  # noqa: E402
from ecgtrain.model import Preprocessing  # noqa: E402


class OnnxModel(torch.nn.Module):
    """The ONNX file behind the `torch.nn.Module` interface `predict_records` calls."""

    def __init__(self, path: str):
        super().__init__()
        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        (logits,) = self.session.run(None, {"input": windows.numpy()})
        return torch.from_numpy(logits)


def preprocessing_from_metadata(steps: list[dict]) -> Preprocessing:
    """The training's `Preprocessing` whose `steps()` are `steps`; refuses metadata the training never writes."""
    filters = [step for step in steps if step["op"] == "sos_filter"]
    standardize = [step for step in steps if step["op"] == "standardize"]
    if len(standardize) != 1 or len(filters) > 1 or len(filters) + 1 != len(steps):
        raise SystemExit(f"ecg.preprocessing {[step['op'] for step in steps]} is not what ecgtrain writes")
    preprocessing = Preprocessing(
        mean=standardize[0]["mean"], std=standardize[0]["std"], sos=filters[0]["sos"] if filters else None
    )
    written = [{key: value for key, value in step.items() if key != "description"} for step in preprocessing.steps()]
    given = [{key: value for key, value in step.items() if key != "description"} for step in steps]
    if written != given:
        raise SystemExit("ecg.preprocessing lists its steps in another order than ecgtrain applies them")
    return preprocessing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the ONNX model with ecg.* metadata")
    parser.add_argument("--hop-seconds", type=float, default=1.25, help="seconds between window starts")
    parser.add_argument("records", nargs="+", help="PTB-XL records, paths without extension")
    args = parser.parse_args()

    metadata = {entry.key: entry.value for entry in onnx.load(args.model, load_external_data=False).metadata_props}
    rate = float(metadata["ecg.sample_rate_hz"])
    window = int(metadata["ecg.window_samples"])
    hop = round(args.hop_seconds * rate)
    preprocessing = preprocessing_from_metadata(json.loads(metadata["ecg.preprocessing"]))
    model = OnnxModel(args.model)

    result = {}
    for path in args.records:
        millivolts = read_record(path)[None].astype(np.float32) / np.float32(GAIN_PER_MV)
        records = torch.from_numpy(preprocessing.apply(millivolts))
        probabilities = predict_records(model, records, window, hop)[0]
        result[Path(path).name] = {
            "window_starts": window_starts(records.shape[-1], window, hop),
            "aggregate": probabilities.tolist(),
        }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
