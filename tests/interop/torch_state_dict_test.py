"""kiln ⇄ PyTorch through checkpoints, with real PyTorch (python3-torch):

1. kiln trains examples/digits_cnn; its checkpoint loads into the equivalent torch.nn.Sequential with
   load_state_dict(strict=True) (scripts/kiln_to_torch.py, as README shows), and PyTorch's
   probabilities on every sample equal kiln's `predict` output.
2. A state_dict PyTorch wrote (no kiln metadata: PyTorch's layout) is kiln's `grad --params`; kiln's
   loss and every gradient, written in the same layout, equal PyTorch's autograd ones.

usage: torch_state_dict_test.py <digits_cnn binary> <examples/data> <work directory>
Exits 77 (ctest's "skipped") when PyTorch is not installed, unless KILN_REQUIRE_TORCH=1.
"""
import csv
import gzip
import os
import struct
import subprocess
import sys
from collections import OrderedDict

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("python3-torch is not installed: skipped (apt install python3-torch)")
    sys.exit(1 if os.environ.get("KILN_REQUIRE_TORCH") == "1" else 77)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from kiln_to_torch import kiln_state_dict, load_safetensors, preprocess, save_safetensors  # noqa: E402

binary, data_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
data = os.path.join(data_dir, "digits.csv.gz")
torch.manual_seed(0)


def run(*args):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join([binary, *args])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def digits_cnn():
    """examples/digits_cnn/model.hpp in PyTorch, module names = kiln's layer names."""
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(1, 16, 3, padding=1), bn1=nn.BatchNorm2d(16), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(16, 32, 3, padding=1), relu2=nn.ReLU(), gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(),
        head=nn.Linear(32, 10)))


def read_digits():
    """examples/data/digits.csv.gz: 1,797 rows of 64 pixels (0…16) and a class id, no header."""
    with gzip.open(data, "rt") as file:
        rows = list(csv.reader(file))
    x = torch.tensor([[float(v) for v in row[:-1]] for row in rows])
    y = torch.tensor([int(row[-1]) for row in rows])
    return x, y


def write_idx_directory(directory, x, y, test_count):
    """The digits as an MNIST-style IDX directory: the last `test_count` samples are t10k, which
    kiln's `predict` reads in file order (a CSV's test split is a shuffled fifth)."""
    os.makedirs(directory, exist_ok=True)
    pixels = x.to(torch.uint8)
    for split, rows in (("train", slice(0, len(x) - test_count)), ("t10k", slice(len(x) - test_count, len(x)))):
        images, labels = pixels[rows], y[rows].to(torch.uint8)
        with open(os.path.join(directory, f"{split}-images-idx3-ubyte"), "wb") as file:
            file.write(struct.pack(">IIII", 0x803, len(images), 8, 8) + images.numpy().tobytes())
        with open(os.path.join(directory, f"{split}-labels-idx1-ubyte"), "wb") as file:
            file.write(struct.pack(">II", 0x801, len(labels)) + labels.numpy().tobytes())


def check(name, got, want, relative, absolute):
    """max |got − want| ≤ relative · max |want| + absolute."""
    worst = (got - want).abs().max().item()
    scale = want.abs().max().item()
    print(f"  {name:14s} {list(want.shape)}: max |kiln − torch| = {worst:.2e} (max |torch| {scale:.3g})")
    if worst > relative * scale + absolute:
        sys.exit(f"{name}: kiln and PyTorch differ by {worst} (bound {relative} · {scale} + {absolute})")


# 1. kiln's checkpoint in PyTorch.
checkpoint = os.path.join(work, "digits_cnn.safetensors")
predictions = os.path.join(work, "predictions.csv")
x, y = read_digits()
test_count = 360
idx = os.path.join(work, "digits_idx")
write_idx_directory(idx, x, y, test_count)
run("train", "--data", idx, "--epochs", "2", "--batch", "32", "--lr", "0.01", "--seed", "3",
    "--preprocess", "standardize", "--checkpoint", checkpoint)
run("predict", "--data", idx, "--checkpoint", checkpoint, "--output", predictions)
net = digits_cnn()
state, kiln_tensors = kiln_state_dict(checkpoint)
net.load_state_dict(state, strict=True)
with open(predictions) as file:
    kiln_probabilities = torch.tensor([[float(v) for v in row[3:]] for row in list(csv.reader(file))[1:]])
if kiln_probabilities.shape != (test_count, 10):
    sys.exit(f"predict wrote {list(kiln_probabilities.shape)} probabilities, expected [{test_count}, 10]")
test_pixels = x[len(x) - test_count:] / 255.0  # as kiln reads IDX bytes
with torch.no_grad():
    torch_probabilities = net.eval()(preprocess(test_pixels, kiln_tensors).reshape(-1, 1, 8, 8)).softmax(1)
print("kiln checkpoint → torch.nn.Sequential.load_state_dict(strict=True):")
check("probabilities", kiln_probabilities, torch_probabilities, 0, 2e-5)  # predict prints 6 significant digits

# 2. PyTorch's state_dict → kiln's grad, gradients back in PyTorch's layout.
net = digits_cnn().train()
params = os.path.join(work, "torch_params.safetensors")
save_safetensors(params, net.state_dict())  # no metadata, as safetensors.torch.save_file writes
batch_x, batch_y = x[:37] / 16.0, y[:37]
batch = os.path.join(work, "batch.safetensors")
save_safetensors(batch, {"x": batch_x.reshape(-1, 1, 8, 8), "y": batch_y.to(torch.int64)})
gradients = os.path.join(work, "gradients.safetensors")
run("grad", "--params", params, "--batch", batch, "--output", gradients)
loss = nn.functional.cross_entropy(net(batch_x.reshape(-1, 1, 8, 8)), batch_y)
loss.backward()
kiln_gradients, _ = load_safetensors(gradients)
print("torch state_dict → kiln grad --params:")
check("loss", kiln_gradients["loss"].reshape(()), loss.detach(), 1e-5, 0)
for name, parameter in net.named_parameters():
    if kiln_gradients[name].shape != parameter.shape:
        sys.exit(f"{name}: kiln's gradient is {list(kiln_gradients[name].shape)}, PyTorch's {list(parameter.shape)}")
    # float32 sums in another order; conv1.bias feeds batch norm, so its gradient is 0 up to rounding
    check(name, kiln_gradients[name], parameter.grad, 1e-4, 1e-6)
print("kiln and PyTorch agree")
