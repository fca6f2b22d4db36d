"""The analyses ``core.model.analysis.analyze`` keeps, under what each read, so the window, the code generator and
the trainer share one analysis of the same network instead of running one each.

The key is the graph's content, not its identity and an edit counter: a run trains a snapshot of the project (another
``Graph`` with the same content), which an identity never matches, and loaders, imports and tests write a node's
fields in place, which no counter sees (a stale analysis would be a wrong one). Computing it costs a few hundredths of
the analysis it saves (``bench/shape_inference.py``: 0.3 ms against 15 ms for 200 nodes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

from core.model.catalog import LAYERS
from core.model.graph import Graph
from core.model.shape_rules import PARAM_COUNTS, RULES

if TYPE_CHECKING:
    from core.model.analysis import Analysis


class Same:
    """A catalog entry or rule compared by identity: a test that registers another entry under a known id (or a
    changed copy) gets another key, and holding the object keeps its id from being reused while the key lives."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def analysis_key(graph: Graph) -> Hashable:
    """Everything ``analyze(graph)`` reads: the nodes (all but their positions) and wires in order, the block
    definitions they reach (their graphs, arguments and bindings) and the catalog entries of the layer types used."""
    types: set[str] = set()
    libraries: list[dict[str, Any]] = []
    parts: list[Hashable] = [_graph_part(graph, types)]
    pending = [graph.blocks]
    while pending:  # a definition's graph shares the project's library; one that does not is read as well
        library = pending.pop()
        if any(library is seen for seen in libraries):
            continue
        libraries.append(library)
        for name, defn in library.items():
            args = tuple((a.name, repr(a.default), a.keyword) for a in defn.args)
            parts.append((name, defn.name, args, tuple(sorted(defn.bindings.items())), _graph_part(defn.graph, types)))
            pending.append(defn.graph.blocks)
    catalog = tuple((t, Same(LAYERS.get(t)), Same(RULES.get(t)), Same(PARAM_COUNTS.get(t))) for t in sorted(types))
    return tuple(parts), catalog


def _graph_part(graph: Graph, types: set[str]) -> Hashable:
    nodes = []
    for node in graph.nodes:
        types.add(node.type)
        nodes.append(
            (
                node.id,
                node.type,
                node.name,
                repr(node.params),
                node.ports,
                node.block,
                node.repeat,
                node.first_block,
                repr(node.first_params),
                node.key,
                node.trainable,
            )
        )
    return tuple(nodes), tuple((e.src, e.dst, e.dst_port, e.src_port) for e in graph.edges)


class CacheInfo(NamedTuple):
    """How often ``analyze`` ran an analysis (misses) and how often it handed out a kept one (hits)."""

    hits: int
    misses: int
    size: int


class Kept:
    """The last ``size`` analyses, least recently used first out. Thread-safe: a run analyses its snapshot on its
    own thread while the window analyses the network."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Analysis] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, key: Hashable) -> Analysis | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self._hits += 1
            return found

    def put(self, key: Hashable, value: Analysis) -> None:
        with self._lock:
            self._misses += 1
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._items))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# The network, the definitions open in tabs and the block classes code generation analyses; a torchvision resnet50's
# analysis holds about 0.6 MB, so 16 stay under 10 MB.
KEPT = Kept(16)


def cache_info() -> CacheInfo:
    return KEPT.info()


def cache_clear() -> None:
    """Forget the kept analyses (a benchmark timing the analysis itself)."""
    KEPT.clear()
