"""Shape inference must run on every edit: time analyze() on a 200-node graph (target: under 50 ms), graph-only
and with the project's training settings (the editor's call: the network checked against its dataset and loss)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model.analysis import analyze
from core.model.analysis_cache import cache_clear
from core.model.graph import Graph
from core.model.node import Edge
from core.settings import TrainingSettings

TARGET_MS = 50.0


def build_graph(nodes: int = 200) -> Graph:
    """A deep CNN-like stack with residual Adds every few blocks: realistic, and worst case for merges."""
    graph = Graph()
    current = graph.add("Input", shape=[3, 32, 32])
    block_start = None
    pattern = ["Conv2d", "BatchNorm2d", "ReLU"]
    i = 0
    while len(graph) < nodes - 4:
        layer = pattern[i % 3]
        params = {"out_channels": 16, "kernel_size": 3, "padding": 1} if layer == "Conv2d" else {}
        node = graph.add(layer, **params)
        graph.connect(Edge(current.id, node.id))
        if layer == "ReLU" and block_start is not None and i % 9 == 8:
            add = graph.add("Add")
            graph.connect(Edge(node.id, add.id, 0))
            graph.connect(Edge(block_start.id, add.id, 1))
            node = add
        if layer == "ReLU":
            block_start = node
        current = node
        i += 1
    for layer, params in (("AdaptiveAvgPool2d", {}), ("Flatten", {}), ("Linear", {"out_features": 10})):
        node = graph.add(layer, **params)
        graph.connect(Edge(current.id, node.id))
        current = node
    out = graph.add("Output")
    graph.connect(Edge(current.id, out.id))
    return graph


def main() -> int:
    graph = build_graph(200)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems[:3]
    training = TrainingSettings(dataset="cifar10")  # metadata only: nothing is loaded or downloaded
    for _ in range(5):  # warm-up (the first task check imports the dataset modules)
        analyze(graph)
        analyze(graph, training)
    times, task_times, kept_times = [], [], []
    for _ in range(50):
        cache_clear()  # the analysis itself: analyze keeps one per network, which an edit makes anew
        start = time.perf_counter()
        analyze(graph)
        times.append((time.perf_counter() - start) * 1000)
        cache_clear()
        start = time.perf_counter()
        task = analyze(graph, training)
        task_times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        analyze(graph, training)  # a second caller at the same graph (the code view, a run): the kept one
        kept_times.append((time.perf_counter() - start) * 1000)
    assert task.ok, task.problems[:3]
    median, worst = statistics.median(times + task_times), max(times + task_times)
    print(f"nodes={len(graph)} edges={len(graph.edges)} params={analysis.total_params:,}")
    print(
        f"analyze (shape inference + validation): median {median:.2f} ms, max {worst:.2f} ms "
        f"(target < {TARGET_MS:.0f} ms); with the task check alone: median {statistics.median(task_times):.2f} ms, "
        f"max {max(task_times):.2f} ms; a second caller at the same graph: median "
        f"{statistics.median(kept_times):.2f} ms"
    )
    print(f"shape_inference_ms={median:.2f} {'OK' if median < TARGET_MS else 'SLOW'}")
    return 0 if median < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
