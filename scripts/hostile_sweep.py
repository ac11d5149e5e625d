#!/usr/bin/env python3
"""Feeds mutated files to a model binary's commands, as a hostile user would, and counts outcomes.

Every command that reads a file gets valid files first (made here by training the model), then
mutations of one of them: bit flips, inserted/deleted/duplicated bytes, truncation, and numbers in
the text replaced by hostile ones (nan, inf, -1, 1e300, 2^64, 0, huge). Each run is timed and its
peak memory measured (wait4). An outcome is bad when it is a crash (signal), a hang (timeout), an
exit status other than 0 or 1, over --memory-mb of memory for an input file under 2 MB, or a
refusal (exit 1) whose message does not name the mutated file.

  python3 scripts/hostile_sweep.py --bin build/examples/two_layer_sigmoid \\
      --csv examples/data/breast_cancer.csv --inputs 2000
  python3 scripts/hostile_sweep.py --bin build/examples/fashion_mlp --idx --inputs 1000

Prints one line per bad outcome and a summary table; exits 1 if any outcome is bad."""
import argparse
import collections
import gzip
import json
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HOSTILE_NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e300", "-1e300", "18446744073709551615",
                   "9223372036854775807", "-9223372036854775808", "4294967296", "1e-320", "3.7", "1e99"]


def run(command, timeout):
    """(status or -signal or 'timeout', seconds, peak RSS in MB, output)"""
    start = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        status = "timeout"
    # Peak memory of the finished child, from the kernel's accounting of this process's children.
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return status, time.time() - start, rss_mb, output.decode(errors="replace")


def mutate(data, rng):
    data = bytearray(data)
    kind = rng.choice(["flip", "insert", "delete", "duplicate", "truncate", "number", "number", "number"])
    if kind == "number":
        text = bytes(data)
        numbers = [m for m in re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", text)]
        if numbers:
            m = rng.choice(numbers)
            return kind, text[:m.start()] + rng.choice(HOSTILE_NUMBERS).encode() + text[m.end():]
        kind = "flip"
    if not data:
        return kind, bytes([rng.randrange(256)])
    at = rng.randrange(len(data))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "insert":
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "delete":
        del data[at:at + rng.randint(1, 64)]
    elif kind == "duplicate":
        data[at:at] = data[at:at + rng.randint(1, 256)]
    else:
        del data[at:]
    return kind, bytes(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="a model binary")
    parser.add_argument("--csv", help="a CSV data set the model trains on")
    parser.add_argument("--idx", action="store_true", help="make a small IDX directory of 28×28 images instead")
    parser.add_argument("--inputs", type=int, default=1000, help="mutated inputs in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--memory-mb", type=float, default=512)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="kiln-sweep-")
    valid = os.path.join(work, "valid")
    os.makedirs(valid)

    # Valid files: data, a training checkpoint, metrics, grad's parameters and batch.
    if args.idx:
        data = os.path.join(valid, "idx")
        os.makedirs(data)
        for prefix, count in (("train", 300), ("t10k", 100)):
            images = struct.pack(">IIII", 0x803, count, 28, 28) + bytes(rng.randrange(256) for _ in range(count * 784))
            labels = struct.pack(">II", 0x801, count) + bytes(rng.randrange(10) for _ in range(count))
            with gzip.open(os.path.join(data, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
                f.write(images)
            with open(os.path.join(data, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
                f.write(labels)
        data_files = [os.path.join(data, name) for name in sorted(os.listdir(data))]
    else:
        data = os.path.join(valid, os.path.basename(args.csv))
        shutil.copy(args.csv, data)
        data_files = [data]
    checkpoint, metrics = os.path.join(valid, "c.safetensors"), os.path.join(valid, "m.jsonl")
    status, _, _, output = run([binary, "train", "--data", data, "--epochs", "2", "--batch", "32", "--checkpoint",
                                checkpoint, "--metrics", metrics, "--seed", "1"], 600)
    if status != 0:
        sys.exit(f"training the valid checkpoint failed:\n{output}")

    # grad's batch: four samples of the data's width, targets 0/1 (a class id, or a BCE target).
    if args.idx:
        features = 784
    else:  # a header "n_samples,n_features,<class names>", or a first row of features and a label
        first = open(data).readline().strip().split(",")
        try:
            float(first[2])
            features = len(first) - 1
        except ValueError:
            features = int(first[1])
    header = {"x": {"dtype": "F32", "shape": [4, features], "data_offsets": [0, 16 * features]},
              "y": {"dtype": "F32", "shape": [4, 1], "data_offsets": [16 * features, 16 * features + 16]}}
    text = json.dumps(header).encode()
    with open(os.path.join(valid, "b.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + struct.pack(f"<{4 * features}f", *[0.5] * (4 * features)) +
                struct.pack("<4f", 0, 1, 1, 0))

    # The commands, each with the file it reads that a mutation replaces ({data}, {checkpoint}, …).
    report_dir = os.path.join(work, "report")
    os.makedirs(report_dir)
    commands = [
        ("eval", "checkpoint", ["eval", "--data", "{data}", "--checkpoint", "{checkpoint}"]),
        ("predict", "checkpoint", ["predict", "--data", "{data}", "--checkpoint", "{checkpoint}", "--output",
                                   os.path.join(work, "p.csv")]),
        ("train --resume", "checkpoint", ["train", "--data", "{data}", "--epochs", "3", "--batch", "32", "--seed",
                                          "1", "--resume", "{checkpoint}"]),
        ("ensemble", "checkpoint", ["ensemble", "--data", "{data}", "--checkpoints", "{checkpoint}", "{checkpoint}"]),
        ("gradcheck", "checkpoint", ["gradcheck", "--data", "{data}", "--checkpoint", "{checkpoint}", "--batch", "3",
                                     "--directions", "1"]),
        ("grad --params", "checkpoint", ["grad", "--params", "{checkpoint}", "--batch", "{batch}", "--output",
                                         os.path.join(work, "g.safetensors")]),
        ("grad --batch", "batch", ["grad", "--params", "{checkpoint}", "--batch", "{batch}", "--output",
                                   os.path.join(work, "g.safetensors")]),
        ("report", "metrics", ["report", "--metrics", "{metrics}", "--output", report_dir]),
        ("train --data", "data", ["train", "--data", "{data}", "--epochs", "1", "--batch", "64"]),
        ("eval --data", "data", ["eval", "--data", "{data}", "--checkpoint", "{checkpoint}"]),
    ]
    outcomes = collections.Counter()
    bad = 0
    worst_rss = 0.0
    for i in range(args.inputs):
        name, reads, template = commands[i % len(commands)]
        case = os.path.join(work, f"case{i % 4}")
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(valid, case)
        files = {"checkpoint": os.path.join(case, "c.safetensors"), "metrics": os.path.join(case, "m.jsonl"),
                 "data": os.path.join(case, os.path.relpath(data, valid))}
        files["batch"] = os.path.join(case, "b.safetensors")
        target = files[reads]
        if reads == "data" and args.idx:
            target = os.path.join(files["data"], os.path.basename(rng.choice(data_files)))
        with open(target, "rb") as f:
            original = f.read()
        if target.endswith(".gz") and rng.random() < 0.7:  # mutate what the gzip holds, or the gzip itself
            kind, mutated = mutate(gzip.decompress(original), rng)
            mutated = gzip.compress(mutated, mtime=0)
        else:
            kind, mutated = mutate(original, rng)
        with open(target, "wb") as f:
            f.write(mutated)
        command = [binary] + [part.format(**files) for part in template]
        resource_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        status, seconds, rss_mb, output = run(command, args.timeout)
        # ru_maxrss of children is a maximum over all of them: a child's own peak shows only when
        # it exceeds every earlier one, which is the case that matters here.
        rss_mb = rss_mb if resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > resource_before else 0
        worst_rss = max(worst_rss, rss_mb)
        problem = None
        if status == "timeout":
            problem = "hang"
        elif status < 0:
            problem = f"crash (signal {-status})"
        elif status not in (0, 1):
            problem = f"exit {status}"
        elif rss_mb > args.memory_mb and len(mutated) < 2 << 20:
            problem = f"{rss_mb:.0f} MB of memory"
        elif (status == 1 and os.path.basename(target) not in output and reads != "data" and
              "gradcheck: a relative error exceeds" not in output):  # gradcheck's verdict on valid weights
            problem = "refusal without the file named"
        outcomes[(name, "accepted" if status == 0 else "refused" if status == 1 else "BAD")] += 1
        if problem:
            bad += 1
            keep = os.path.join(work, f"bad{i}-{os.path.basename(target)}")
            shutil.copy(target, keep)
            print(f"BAD {name} ({kind}): {problem}: {keep}\n    {output.strip()[-300:]}")
    print(f"\n{args.inputs} inputs, {bad} bad; peak memory of any run {worst_rss:.0f} MB; work files in {work}")
    for (name, outcome), count in sorted(outcomes.items()):
        print(f"  {name:16} {outcome:9} {count}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
