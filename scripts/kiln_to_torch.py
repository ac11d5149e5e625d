"""Loads a kiln checkpoint into PyTorch.

A kiln checkpoint (format "kiln", layout "torch") holds each parameter under the name and in the
layout of the matching PyTorch module — a dense layer's weight [out × in] as nn.Linear's, a conv
filter [out, in, kh, kw] as nn.Conv2d's, batch norm's weight/bias/running_mean/running_var/
num_batches_tracked as nn.BatchNorm's — so the network's tensors load into the equivalent
torch.nn.Sequential, built with kiln's layer names, with load_state_dict(strict=True). Tensors whose
names start with "__" are kiln's own: the input preprocessing (and, in a resumable checkpoint, the
optimizer's state).

    from collections import OrderedDict
    import torch, torch.nn as nn
    from kiln_to_torch import kiln_state_dict, preprocess

    net = nn.Sequential(OrderedDict(fc1=nn.Linear(784, 256), relu1=nn.ReLU(), fc2=nn.Linear(256, 128),
                                    relu2=nn.ReLU(), fc3=nn.Linear(128, 10)))
    state, kiln_tensors = kiln_state_dict("fashion.safetensors")
    net.load_state_dict(state, strict=True)
    probabilities = net.eval()(preprocess(x, kiln_tensors)).softmax(1)   # x: [N × 784] floats

Debian 12 has no python3-safetensors, so the file is read here (an 8-byte little-endian header
length, the JSON header, then the tensors' bytes); with pip's safetensors,
safetensors.torch.load_file(path) returns the same tensors.
"""
import json
import struct

import torch

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}


def load_safetensors(path):
    """(tensors by name, metadata) of a safetensors file."""
    with open(path, "rb") as file:
        data = file.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=_DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata


def kiln_state_dict(path):
    """(state_dict, kiln_tensors): the network's tensors by PyTorch's names, and kiln's own ("__…")."""
    tensors, metadata = load_safetensors(path)
    if metadata.get("format") != "kiln" or metadata.get("layout") != "torch":
        raise ValueError(f"{path}: not a kiln checkpoint in PyTorch's layout (metadata {metadata})")
    state = {name: t for name, t in tensors.items() if not name.startswith("__")}
    kiln_tensors = {name: t for name, t in tensors.items() if name.startswith("__")}
    return state, kiln_tensors


def preprocess(x, kiln_tensors):
    """The checkpoint's input preprocessing, as kiln applies it: (x − mean) · scale per feature, then
    the whitening projection when there is one. x: [N × features] (an image batch flattened NCHW)."""
    shape = x.shape
    x = x.reshape(shape[0], -1).to(torch.float32)
    x = (x - kiln_tensors["__standardize.mean"]) * kiln_tensors["__standardize.scale"]
    if "__preprocess.projection" in kiln_tensors:
        x = x @ kiln_tensors["__preprocess.projection"]
    return x.reshape(shape)


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (by name) as safetensors — what safetensors.torch.save_file(tensors, path) writes."""
    header, chunks, offset = {}, [], 0
    inverse = {dtype: name for name, dtype in _DTYPES.items()}
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": inverse[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
