"""Whether CPU training is faster on one thread, by a sample's multiply-adds (core.code.script_loop.SMALL_MODEL_MACS).

Two measurements in one process, on networks of known multiply-adds a sample (an MLP 784-h-10 and two 3x3
convolutions over 3x32x32 pictures, batch 64, Adam):
- A/B, alternating: a training step's wall and process CPU time on one thread and on torch's default threads;
- one thread's CPU time (time.thread_time) per step, as multiply-adds a second (forward + backward: 3x the
  forward's): near the machine's best, a step is arithmetic that threads could share; far below, it is
  per-operation overhead, which they cannot.
Run: python bench/thread_rule.py [--rounds 5]; it prints the load with every row (the machine may be shared).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import nn

BATCH = 64


def mlp(hidden: int) -> tuple[nn.Module, tuple[int, ...], int]:
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10)), (784,), 784 * hidden + hidden * 10


def conv(channels: int) -> tuple[nn.Module, tuple[int, ...], int]:
    c = channels
    model = nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(c, 10),
    )
    return model, (3, 32, 32), (3 * c * 9 + c * c * 9) * 32 * 32 + c * 10


def steps(model: nn.Module, shape: tuple[int, ...], threads: int, count: int) -> tuple[float, float, float]:
    """Seconds a step: wall, process CPU, this thread's CPU."""
    torch.set_num_threads(threads)
    x, y = torch.randn(BATCH, *shape), torch.randint(0, 10, (BATCH,))
    optimizer, loss_fn = torch.optim.Adam(model.parameters()), nn.CrossEntropyLoss()
    wall, cpu, mine = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(count):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return tuple(
        (t1 - t0) / count
        for t0, t1 in zip((wall, cpu, mine), (time.perf_counter(), time.process_time(), time.thread_time()))
    )  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    default = torch.get_num_threads()
    print(f"torch {torch.__version__}, default threads {default}")
    for make, size in [
        (mlp, 8),
        (mlp, 32),
        (mlp, 128),
        (mlp, 256),
        (mlp, 1024),
        (mlp, 4096),
        (conv, 4),
        (conv, 16),
        (conv, 32),
    ]:
        model, shape, macs = make(size)
        count = max(2, min(30, int(3e8 / (3 * macs * BATCH))))
        steps(model, shape, 1, 2)
        steps(model, shape, default, 2)
        one, many = [], []
        for _ in range(rounds):
            one.append(steps(model, shape, 1, count))
            many.append(steps(model, shape, default, count))
        wall1, wall_n = (statistics.median(r[0] for r in rows) for rows in (one, many))
        cpu1, cpu_n = (statistics.median(r[1] for r in rows) for rows in (one, many))
        rate = 3 * macs * BATCH / statistics.median(r[2] for r in one) / 1e9
        load = Path("/proc/loadavg").read_text().split()[0]
        print(
            f"{make.__name__}({size:4}) {macs:>11,} multiply-adds a sample | one thread {wall1 * 1e3:8.2f} ms "
            f"(cpu {cpu1 * 1e3:7.2f}) | {default} threads {wall_n * 1e3:8.2f} ms (cpu {cpu_n * 1e3:7.2f}) | "
            f"one thread {wall_n / wall1:6.2f}x as fast | {rate:5.1f} G multiply-adds/s on one thread | load {load}",
            flush=True,
        )
    torch.set_num_threads(default)


if __name__ == "__main__":
    main()
