"""An exported model back into PyTorch: the ONNX file's initializers mapped onto `IncepSE`, for fine-tuning.

`export` writes the graph with `torch.onnx.export`, which keeps the state-dict names of every tensor it leaves alone
(`inception.0.convs.1.weight`, `excitation.3.squeeze.bias`, `head.weight`, the inception modules' BatchNorm) and folds
each residual shortcut's BatchNorm into its 1×1 convolution (an anonymous weight and bias on the Conv node whose
output is `/shortcuts.N/...`). The folded shortcut comes back as that convolution plus an identity BatchNorm holding
the bias (running mean 0, running variance 1 − ε, scale 1), exact in evaluation mode; `calibrate_shortcuts` then gives
that BatchNorm the batch statistics of real inputs so that training mode, which normalises with batch statistics,
starts from the same function too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .model import IncepSE, Preprocessing, StreamingIncepSE


@dataclass
class OnnxModel:
    """What an exported model file holds: the network, its preprocessing, classes and every `ecg.*` key."""

    model: IncepSE
    preprocessing: Preprocessing
    classes: list[str]
    descriptions: list[str]
    metadata: dict[str, str]


def load_onnx(path: str | Path) -> OnnxModel:
    """Reads a model written by `export` into an `IncepSE` in evaluation mode.

    - Throws: `ValueError` naming the file and the tensor when the graph is not this architecture (a missing,
      extra or differently shaped tensor), or when its preprocessing is not a plain standardisation.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    graph_model = onnx.load(str(path))
    metadata = {entry.key: entry.value for entry in graph_model.metadata_props}
    if "ecg.classes" not in metadata or "ecg.preprocessing" not in metadata:
        raise ValueError(f"{path}: no ecg.classes / ecg.preprocessing metadata; not a model written by export")
    classes = json.loads(metadata["ecg.classes"])
    steps = json.loads(metadata["ecg.preprocessing"])
    if [step["op"] for step in steps] != ["standardize"]:
        raise ValueError(f"{path}: preprocessing {[step['op'] for step in steps]}; only standardize is supported")
    preprocessing = Preprocessing(mean=steps[0]["mean"], std=steps[0]["std"])

    initializers = {item.name: numpy_helper.to_array(item) for item in graph_model.graph.initializer}
    tensors = dict(initializers)
    # the exporter deduplicates equal tensors: a folded one may be an Identity of another initializer (an all-zero
    # bias of an untrained BatchNorm equals other zero vectors), so names are resolved and looked up, not taken
    aliases = {node.output[0]: node.input[0] for node in graph_model.graph.node if node.op_type == "Identity"}

    def resolved(name: str) -> str:
        while name in aliases:
            name = aliases[name]
        return name

    used = set()
    for node in graph_model.graph.node:
        match = re.match(r"/shortcuts\.(\d+)/", node.output[0])
        if node.op_type == "Conv" and match and len(node.input) == 3:
            weight, bias = resolved(node.input[1]), resolved(node.input[2])
            if weight not in initializers or bias not in initializers:
                raise ValueError(f"{path}: shortcut {match[1]}'s convolution has no stored weight or bias")
            tensors[f"shortcuts.{match[1]}.0.weight"] = initializers[weight]
            tensors[f"shortcuts.{match[1]}.folded_bias"] = initializers[bias]
            used.update((weight, bias))

    model = IncepSE(len(classes))
    state = model.state_dict()
    loaded = {}
    for name, target in state.items():
        shortcut_bn = re.fullmatch(r"shortcuts\.(\d+)\.1\.(\w+)", name)
        if shortcut_bn:
            loaded[name] = _identity_batchnorm(tensors, shortcut_bn[1], shortcut_bn[2], target, model, path)
            continue
        if name.endswith("num_batches_tracked"):
            loaded[name] = target
            continue
        loaded[name] = _tensor(tensors, name, target, path)
        used.add(name)
    leftover = sorted(set(initializers) - used)
    if leftover:
        raise ValueError(f"{path}: tensors the network has no place for: {leftover}")
    model.load_state_dict(loaded)
    return OnnxModel(
        model=model.eval(),
        preprocessing=preprocessing,
        classes=[entry["code"] for entry in classes],
        descriptions=[entry["description"] for entry in classes],
        metadata=metadata,
    )


def _tensor(tensors: dict, name: str, target: torch.Tensor, path) -> torch.Tensor:
    """The graph's tensor `name`, checked to have the shape of the network's `target`."""
    if name not in tensors:
        raise ValueError(f"{path}: no tensor '{name}' in the graph")
    value = torch.from_numpy(np.array(tensors[name]))
    if value.shape != target.shape:
        raise ValueError(f"{path}: tensor '{name}' has shape {list(value.shape)}, expected {list(target.shape)}")
    return value


def _identity_batchnorm(tensors, index: str, field: str, target: torch.Tensor, model: IncepSE, path) -> torch.Tensor:
    """One field of shortcut `index`'s BatchNorm that adds the folded bias and otherwise passes values through."""
    key = f"shortcuts.{index}.folded_bias"
    if key not in tensors:
        raise ValueError(f"{path}: no folded convolution for shortcut {index}")
    bias = torch.from_numpy(np.array(tensors[key]))
    if bias.shape != target.shape and field != "num_batches_tracked":
        raise ValueError(f"{path}: shortcut {index} bias has shape {list(bias.shape)}, expected {list(target.shape)}")
    epsilon = model.shortcuts[int(index)][1].eps
    return {
        "weight": torch.ones_like(target),
        "bias": bias,
        "running_mean": torch.zeros_like(target),
        "running_var": torch.full_like(target, 1.0 - epsilon),
        "num_batches_tracked": target,
    }[field]


@torch.no_grad()
def calibrate_shortcuts(model: IncepSE, inputs: torch.Tensor) -> None:
    """Re-expresses every shortcut BatchNorm of a model from `load_onnx` with the statistics of its convolution's
    output on `inputs` (`[batch][leads][samples]`, preprocessed): running mean/var ← those statistics, scale ←
    √(var + ε), shift ← bias + mean. Evaluation-mode outputs do not change; training mode then normalises by batch
    statistics close to these and so starts from (nearly) the loaded function."""
    was_training = model.training
    model.eval()
    activations = []
    hooks = [
        shortcut[0].register_forward_hook(lambda _module, _inputs, output: activations.append(output))
        for shortcut in model.shortcuts
    ]
    model(inputs)
    for hook in hooks:
        hook.remove()
    for shortcut, output in zip(model.shortcuts, activations):
        batchnorm = shortcut[1]
        mean = output.mean(dim=(0, 2))
        variance = output.var(dim=(0, 2), unbiased=False)
        shift = batchnorm.bias - batchnorm.weight * batchnorm.running_mean / torch.sqrt(
            batchnorm.running_var + batchnorm.eps
        )
        scale = batchnorm.weight / torch.sqrt(batchnorm.running_var + batchnorm.eps)
        # the layer computes y·scale + shift now; keep that with the new statistics
        batchnorm.running_mean.copy_(mean)
        batchnorm.running_var.copy_(variance)
        new_scale = torch.sqrt(variance + batchnorm.eps)
        batchnorm.weight.copy_(scale * new_scale)
        batchnorm.bias.copy_(shift + scale * mean)
    model.train(was_training)


def load_streaming_onnx(path: str | Path) -> StreamingIncepSE:
    """A streaming model file (`export_streaming_onnx`) back into a `StreamingIncepSE` in evaluation mode: its
    parameters are stored under their PyTorch names (some as an `Identity` of an equal tensor), its time constant
    in `ecg.streaming`.

    - Throws: `ValueError` naming the file and the tensor when a parameter is missing or differently shaped.
    """
    path = Path(path)
    graph_model = onnx.load(str(path))
    metadata = {entry.key: entry.value for entry in graph_model.metadata_props}
    if "ecg.streaming" not in metadata or "ecg.classes" not in metadata:
        raise ValueError(f"{path}: no ecg.streaming / ecg.classes metadata; not a streaming model")
    tensors = {item.name: numpy_helper.to_array(item) for item in graph_model.graph.initializer}
    for node in graph_model.graph.node:
        if node.op_type == "Identity" and node.input[0] in tensors:
            tensors[node.output[0]] = tensors[node.input[0]]
    classes = json.loads(metadata["ecg.classes"])
    model = StreamingIncepSE(len(classes), json.loads(metadata["ecg.streaming"])["time_constant_samples"])
    loaded = {}
    for name, target in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            loaded[name] = target
            continue
        loaded[name] = _tensor(tensors, name, target, path)
    model.load_state_dict(loaded)
    return model.eval()
