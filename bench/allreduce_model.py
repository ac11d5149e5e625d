"""Summarizes bench/data_parallel.sh's runs and projects them with an α–β model of ring allreduce.

Measured (this machine, medians over rounds): seconds per epoch of 1 process × 2 threads and of
2 ranks × 1 thread, their throughput ratio, and the allreduce's share of a 2-rank step.

Projected: p ranks, each a machine like this one (2 cores) training the same per-rank batch, so the
compute part of a step stays the measured 1-process step (weak scaling, as DDP is used). A ring
allreduce of n bytes over p ranks takes 2(p−1)·α + 2(p−1)/p · n/B (reduce-scatter then allgather:
each rank sends and receives 2(p−1)/p of the data in 2(p−1) messages). Without overlap a step takes
compute + allreduce. With kiln's overlap (train --allreduce-bucket-mb, 4 MiB by default across
machines) the gradients are cut into buckets as the runtime cuts them — runs of whole parameters,
the last first, of at least 4 MiB — and each bucket's allreduce starts when its last gradient is
complete; the reductions run one after another. The timeline assumes the forward pass takes 1/3
of the compute and the backward 2/3, producing each parameter's gradient after a share of the
backward proportional to the parameters before it (last layer first: true of an MLP's GEMMs; a
CNN's convolutions have far more work per parameter, so its figure is an estimate). The last
bucket — the first layer's, which the chain rule completes last — starts when the backward ends,
so it is never hidden. Efficiency = compute / step.
"""
import json
import statistics
import sys

NETWORKS = {  # name: (α in seconds per message, B in bytes per second)
    "25 Gb/s Ethernet (TCP, α 15 µs)": (15e-6, 25e9 / 8),
    "100 Gb/s InfiniBand/RoCE (RDMA, α 3 µs)": (3e-6, 100e9 / 8),
}
RANKS = (2, 8, 64, 512)


def step_ms(record):
    return sum(record["step_ms"].values())


def ring_allreduce_s(p, n_bytes, alpha, bandwidth):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * n_bytes / bandwidth


BUCKET_BYTES = 4 << 20  # train --allreduce-bucket-mb's default across machines


def buckets(sizes):
    """The runtime's buckets (data_parallel.cpp): whole parameters from the last, each bucket closed
    once it holds at least BUCKET_BYTES. Returns (bytes, parameters before it from the end) each."""
    out, current, seen = [], 0, 0
    for size in reversed(sizes):
        if current >= BUCKET_BYTES:
            out.append((current, seen))
            current = 0
        current += 4 * size
        seen += 4 * size
    out.append((current, seen))
    return out


def overlapped_step_s(compute, sizes, p, alpha, bandwidth):
    total = 4 * sum(sizes)
    forward, backward = compute / 3, 2 * compute / 3
    finished = 0.0
    for n_bytes, through in buckets(sizes):
        ready = forward + backward * through / total
        finished = max(ready, finished) + ring_allreduce_s(p, n_bytes, alpha, bandwidth)
    return max(compute, finished)


runs = [json.loads(a) for a in sys.argv[1:]]
by_label = {}
for r in runs:
    by_label.setdefault(r["label"], []).append(r)
median = lambda label, f: statistics.median(f(r) for r in by_label[label])

print("measured here (medians; 'buckets': --allreduce-bucket-mb 4, reduced while the backward stage runs, the "
      "default across machines; 'after': --allreduce-bucket-mb 0, the default on one; allreduce = the step's wait "
      "after the backward stage):")
for model in ("wide", "fashion_mlp"):
    one = f"{model}_1x2"
    if one not in by_label:
        continue
    s1 = median(one, lambda r: r["record"]["seconds"])
    for two, how in ((f"{model}_2x1", "buckets"), (f"{model}_2x1_after", "after")):
        if two not in by_label:
            continue
        s2 = median(two, lambda r: r["record"]["seconds"])
        allreduce = median(two, lambda r: r["record"]["step_ms"]["allreduce"])
        share = median(two, lambda r: r["record"]["step_ms"]["allreduce"] / step_ms(r["record"]))
        count = by_label[two][0]["record"].get("allreduce_buckets", 0)
        print(f"  {model:<12} 1×2 threads {s1:.3f} s/epoch   2 ranks×1 thread, {how} ({count} buckets) "
              f"{s2:.3f} s/epoch   throughput ratio {s1 / s2:.2f}   allreduce {allreduce:.3f} ms/step = "
              f"{100 * share:.1f}% of the step")

print("\nprojected (α–β ring allreduce, fp32 gradients, per-rank batch as measured, compute = 1×2 step):")
for label, model in (("wide_1x2", "wide 784-1024-1024-10"), ("fashion_mlp_1x2", "fashion_mlp"),
                     ("fashion_cnn_1x2", "fashion_cnn")):
    if label not in by_label:
        continue
    compute = median(label, lambda r: step_ms(r["record"])) / 1e3
    params = by_label[label][0]["parameters"]
    n_bytes = 4 * params
    sizes = by_label[label][0].get("sizes") or [params]
    split = " + ".join(f"{b / 1e6:.2f}" for b, _ in buckets(sizes))
    print(f"  {model}: {params} parameters = {n_bytes / 1e6:.2f} MB, batch {by_label[label][0]['batch']} per rank, "
          f"compute {1e3 * compute:.2f} ms/step, buckets {split} MB (the first layer's last)")
    for network, (alpha, bandwidth) in NETWORKS.items():
        cells = []
        for p in RANKS:
            t = ring_allreduce_s(p, n_bytes, alpha, bandwidth)
            plain, overlapped = compute + t, overlapped_step_s(compute, sizes, p, alpha, bandwidth)
            cells.append(f"p={p}: allreduce {1e3 * t:.2f} ms, eff {compute / plain:.2f} ({compute / overlapped:.2f} overlapped)")
        # The rank count from which the allreduce takes longer than the compute (and overlap can
        # no longer hide it): the smallest p with t(p) > compute.
        crossover = next((p for p in range(2, 1 << 20) if ring_allreduce_s(p, n_bytes, alpha, bandwidth) > compute),
                         None)
        cells.append(f"the allreduce exceeds the compute from p={crossover}" if crossover else
                     "the allreduce stays below the compute")
        print(f"    {network}:\n      " + "\n      ".join(cells))
