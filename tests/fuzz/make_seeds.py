#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (corpus/<harness>/): small valid files of each format, the
shapes kiln writes and reads, so that fuzzing starts from inputs that get past the first checks.
Run from anywhere; the files are committed, so the tests do not need Python."""
import gzip
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(harness, name, data):
    os.makedirs(os.path.join(here, "corpus", harness), exist_ok=True)
    with open(os.path.join(here, "corpus", harness, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def two_files(first, second):
    return struct.pack("<H", len(first)) + first + second


# safetensors: a training checkpoint as kiln writes it, and tensors of each dtype kiln reads.
def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(payload)]}
        blob += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blob


f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)
progress = {"format": "kiln", "model": "seed", "epoch": "3", "step": "120", "seed": "42", "optimizer": "adam",
            "best_validation_loss": "0.41999999999999998", "best_epoch": "2", "initial_loss": "2.3025850929940459",
            "batch": "128", "lr": "0.001", "schedule": "cosine", "preprocess": "standardize",
            "__optimizer.step": "120"}
write("safetensors", "checkpoint", safetensors({
    "fc1.weight": ("F32", [3, 2], f32(0.1, -0.2, 0.3, 0.4, -0.5, 0.6)),
    "fc1.bias": ("F32", [2], f32(0.0, 0.01)),
    "__standardize.mean": ("F32", [1, 3], f32(0.5, 0.5, 0.5)),
    "__standardize.scale": ("F32", [1, 3], f32(2.0, 2.0, 2.0)),
    "__optimizer.m": ("F32", [8], f32(*[0.001 * i for i in range(8)])),
    "__optimizer.v": ("F32", [8], f32(*[0.0001 * i for i in range(8)])),
}, progress))
write("safetensors", "dtypes", safetensors({
    "a": ("F64", [2, 2], struct.pack("<4d", 1.5, -2.0, 1e30, 0.0)),
    "b": ("I32", [3], struct.pack("<3i", 1, -7, 9)),
    "c": ("I64", [2], struct.pack("<2q", 5, -5)),
    "empty": ("F32", [0, 4], b""),
    "scalar": ("F32", [], f32(3.0)),
}))
write("safetensors", "no_tensors", safetensors({}, {"format": "kiln"}))

# IDX: three 2×2 images and their labels, plain and gzip-compressed.
images = struct.pack(">IIII", 0x803, 3, 2, 2) + bytes([0, 255, 128, 7, 1, 2, 3, 4, 250, 251, 252, 253])
labels = struct.pack(">II", 0x801, 3) + bytes([0, 9, 4])
write("idx", "three_images", two_files(images, labels))
write("idx", "no_images", two_files(struct.pack(">IIII", 0x803, 0, 28, 28), struct.pack(">II", 0x801, 0)))
write("idx_gzip", "three_images", two_files(gz(images), gz(labels)))
write("idx_gzip", "two_members", two_files(gz(images[:9]) + gz(images[9:]), gz(labels)))
write("idx_gzip", "plain", two_files(images, labels))

# CSV: with and without the header examples/data uses, with blank lines and CRLF, and gzip.
with_header = b"4,3,setosa,versicolor\n5.1,3.5,1.4,0\n4.9,3.0,1.4,1\n\n6.2,2.9,4.3,1\n5.9,3.0,5.1,0\n"
write("csv", "header", with_header)
write("csv", "no_header_crlf", b"0.5,-1e-3,2\r\n1,2,0\r\n 3 ,4,1\r\n")
write("csv", "gzip", gz(with_header))

# Metrics: the JSON lines train --metrics writes.
records = []
for epoch in range(1, 4):
    records.append({"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 1.1 / epoch, "val_accuracy": 0.8 + 0.03 * epoch,
                    "lr": 0.001 * 0.5 ** epoch, "update_ratio": {"fc1.weight": 1e-3 * epoch, "fc2.weight": 2e-4},
                    "dead_relu_fraction": {"relu1": 0.01 * epoch},
                    "step_ms": {"forward": 0.3, "backward": 0.6, "optimizer": 0.1}})
write("metrics", "three_epochs", b"".join(json.dumps(r).encode() + b"\n" for r in records))
write("metrics", "torn_last_line", json.dumps(records[0]).encode() + b"\n" + json.dumps(records[1]).encode()[:40])


# Regression inputs (regressions/<harness>/): each once crashed a loader, took memory its file
# did not justify, or was accepted when it should have been refused (issue 14's findings).
def regression(harness, name, data):
    os.makedirs(os.path.join(here, "regressions", harness), exist_ok=True)
    with open(os.path.join(here, "regressions", harness, name), "wb") as f:
        f.write(data)


def raw_safetensors(header_json, blob=b""):
    text = header_json.encode()
    return struct.pack("<Q", len(text)) + text + blob


regression("safetensors", "offsets_wrap_2_64", raw_safetensors(
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,0]}}', f32(1, 2)))
regression("safetensors", "negative_offsets", raw_safetensors(
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}', f32(1, 2)))
regression("safetensors", "shape_overflow", raw_safetensors(
    '{"w":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}', b"\0" * 8))
regression("safetensors", "header_length_huge", struct.pack("<Q", 2 ** 63) + b"{}")
regression("safetensors", "f64_beyond_float", raw_safetensors(
    '{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', struct.pack("<d", 1e300)))
regression("safetensors", "epoch_1e99", safetensors({"w": ("F32", [1], f32(1))}, {**progress, "epoch": "1e99"}))
regression("safetensors", "nan_optimizer_scalar",
           safetensors({"w": ("F32", [1], f32(1))}, {**progress, "__optimizer.step": "nan"}))
regression("csv", "header_counts_1e300", b"1e300,1e300,a,b\n1,0\n")
regression("csv", "header_claims_1e6_features", b"2,1000000,a,b\n" + b"0.5,1\n" * 2)
regression("idx", "dims_overflow",
           two_files(struct.pack(">IIII", 0x803, 0x10000, 0x10000, 0x10000), struct.pack(">II", 0x801, 0x10000)))
regression("idx", "no_images_of_2_32_pixels",
           two_files(struct.pack(">IIII", 0x803, 0, 0x10000, 0x10000), struct.pack(">II", 0x801, 0)))
# 128 MiB of zeros in ~128 KiB of gzip: beyond the decompression bound, refused before it is held.
bomb_images = struct.pack(">IIII", 0x803, 128 * 1024, 32, 32)
# (the second file: the first is empty, so the harness decompresses the bomb before any IDX check)
regression("idx_gzip", "decompression_bomb", struct.pack("<H", 0) + gz(bomb_images + bytes(128 << 20)))
# Nested 100,000 deep: printing it in a message recursed until the stack ran out (found in review;
# too long for the fuzzers' 16 KiB inputs).
regression("safetensors", "shape_nested_deeply", raw_safetensors(
    '{"w":{"dtype":"F32","shape":' + "[" * 100000 + "]" * 100000 + ',"data_offsets":[0,4]}}', f32(1)))
regression("metrics", "epoch_nested_deeply", b'{"epoch":' + b"[" * 100000 + b"]" * 100000 + b"}\n")
