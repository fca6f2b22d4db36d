"""Everything the editor shows about a graph at once: structural problems, shapes, auto-filled parameters and
parameter counts. Fast enough to run after every edit (see bench/shape_inference.py).

One analysis per network: ``analyze`` keeps the last few under what they read (``core.model.analysis_cache``), so
the window's refresh, the code generator and the trainer at the same graph share one run. Each caller gets its own
copy of the kept analysis, so no caller can change what the next one is told. The wiring is checked first
(``core.model.wiring``); shapes then flow through the nodes that feed an Output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import CycleError, ShapeError, TorchCanvasError
from core.model.analysis_cache import KEPT, analysis_key
from core.model.blocks import MAX_BLOCK_DEPTH, concrete_graph, instance_at
from core.model.catalog import LAYERS, LayerSpec
from core.model.graph import Graph
from core.model.in_place import in_place_problems
from core.model.node import Node
from core.model.problem import Problem
from core.model.problem import status as status  # the views read it here with Analysis and Problem
from core.model.shape_rules import PARAM_COUNTS, RULES, RuleContext, Shape, fmt
from core.model.wiring import wiring_problems
from core.settings import TrainingSettings


@dataclass
class NodeInfo:
    in_shapes: list[Shape | None] = field(default_factory=list)
    out_shape: Shape | None = None
    dtype: str = "float32"
    params: dict[str, Any] = field(default_factory=dict)  # every parameter's effective value
    auto: dict[str, Any] = field(default_factory=dict)  # which of them were filled from the input shape
    param_count: int = 0
    error: str | None = None
    used: bool = True  # False: its output reaches no Output, so it is left out of the code
    out_shapes: list[Shape | None] = field(default_factory=list)  # one per output port (blocks may have several)
    # a block instance: its definition's graph as each copy sees it and that graph's analysis (codegen reads them)
    inner: list[tuple[Graph, Analysis]] = field(default_factory=list)

    def port_shape(self, port: int) -> Shape | None:
        if port == 0 or not self.out_shapes:
            return self.out_shape
        return self.out_shapes[port] if port < len(self.out_shapes) else None


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]
    order: list[str]  # topological order of the nodes that make it into the code

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(info.param_count for info in self.nodes.values() if info.used)

    def problems_of(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node_id == node_id]

    def shape(self, node_id: str) -> Shape | None:
        info = self.nodes.get(node_id)
        return info.out_shape if info else None

    def output_shapes(self, graph: Graph) -> list[Shape | None]:
        return [self.shape(n.id) for n in graph.nodes_of_type("Output")]


def effective_params(node: Node) -> dict[str, Any]:
    spec = LAYERS[node.type]
    params = {p.name: p.default for p in spec.params}
    params.update(node.params)
    return params


def analyze(graph: Graph, training: TrainingSettings | None = None) -> Analysis:
    """Shapes and problems of ``graph``; with the project's ``training`` settings also the network against its task
    (output against the dataset's classes and the loss, Input against the samples: see ``core.model.task_check``).

    The graph's part is run once per content and kept; the task's part (cheap, and it reads the dataset's files,
    whose own cache watches their modification times) is added to the caller's copy each time."""
    key = analysis_key(graph)
    kept = KEPT.get(key)
    if kept is None:
        kept = _analyze(graph, 0)
        KEPT.put(key, kept)
    analysis = _copied(kept)
    if training is not None:
        _add_task_problems(graph, analysis, training)
    return analysis


def _copied(analysis: Analysis) -> Analysis:
    """A caller's own copy: its lists and dicts are new, so appending a problem or changing a value leaves the kept
    analysis alone. The graphs in ``inner`` are the analysis' own concrete copies, read and never edited: shared."""
    nodes = {
        node_id: NodeInfo(
            list(info.in_shapes),
            info.out_shape,
            info.dtype,
            _own(info.params),
            _own(info.auto),
            info.param_count,
            info.error,
            info.used,
            list(info.out_shapes),
            [(inner_graph, _copied(inner)) for inner_graph, inner in info.inner],
        )
        for node_id, info in analysis.nodes.items()
    }
    return Analysis(nodes, list(analysis.problems), list(analysis.order))


def _own(value: Any) -> Any:
    """A copy of a parameter value's lists and dicts (the rest, numbers, strings and tuples, cannot be changed):
    ``copy.deepcopy`` made a kept analysis cost half a new one."""
    if isinstance(value, list):
        return [_own(item) for item in value]
    if isinstance(value, dict):
        return {key: _own(item) for key, item in value.items()}
    return value


def _analyze(graph: Graph, depth: int) -> Analysis:
    """The graph's own analysis (no task check), run every time: ``analyze`` keeps its results."""
    problems, feeds_output = wiring_problems(graph)
    infos: dict[str, NodeInfo] = {}
    try:
        order = graph.topological_order()
    except CycleError:  # already reported by wiring_problems; no shapes flow through a cycle
        order = []
    for node_id in order:
        info = infos[node_id] = NodeInfo(used=node_id in feeds_output)
        problems.extend(_infer_node(graph, graph.node(node_id), info, infos, depth))
    problems.extend(Problem(message, node_id) for node_id, message in in_place_problems(graph, feeds_output))
    return Analysis(infos, problems, [nid for nid in order if nid in feeds_output])


def _infer_node(graph: Graph, node: Node, info: NodeInfo, infos: dict[str, NodeInfo], depth: int = 0) -> list[Problem]:
    """Fill ``info`` (shape, dtype, parameters, count) from the inputs' infos; the node's shape problems."""
    spec = node.spec
    if spec is None and node.block is not None:
        return _infer_block(graph, node, info, infos, depth)
    if spec is None:
        return []
    info.params = effective_params(node)
    ports = graph.inputs_of(node.id)
    sources = [infos.get(e.src) if e else None for e in ports]
    info.in_shapes = [s.port_shape(e.src_port) if s and e else None for s, e in zip(sources, ports, strict=True)]
    if any(s is None for s in info.in_shapes):
        return []  # an unconnected or broken input: reported there, not again here
    in_dtypes = [s.dtype for s in sources if s is not None]
    ctx = RuleContext(
        node_id=node.id,
        name=node.name,
        layer=node.type,
        params=info.params,
        pinned={k for k in node.params if spec.param(k).auto},
        ins=[s for s in info.in_shapes if s is not None],
        in_dtypes=in_dtypes,
        sources=[graph.node(e.src).name for e in ports if e is not None],
    )
    try:
        _check_dtype(spec, ctx)
        rule = RULES.get(node.type)
        info.out_shape = rule(ctx) if rule else ctx.x
        info.dtype = ctx.dtype
        info.auto = ctx.auto_values
        counter = PARAM_COUNTS.get(node.type)
        info.param_count = counter(info.params) if counter else 0
        return [Problem(w, node.id, "warning", kind="shape") for w in ctx.warnings]
    except ShapeError as exc:
        info.error = str(exc)
        info.out_shape = None
        return [Problem(str(exc), node.id, kind="shape")]


def _infer_block(graph: Graph, node: Node, info: NodeInfo, infos: dict[str, NodeInfo], depth: int) -> list[Problem]:
    """Shapes through a block instance: its definition analysed with the instance's input shapes and arguments,
    copy after copy for a repeat; the first problem inside is reported on the instance, naming the inner layer."""
    if node.block not in graph.blocks:
        return []
    ports = graph.inputs_of(node.id)
    sources = [infos.get(e.src) if e else None for e in ports]
    shapes = [s.port_shape(e.src_port) if s and e else None for s, e in zip(sources, ports, strict=True)]
    info.in_shapes = list(shapes)
    info.params = dict(node.params)
    if any(s is None for s in shapes):
        return []
    dtypes = [s.dtype for s in sources if s is not None]
    if depth >= MAX_BLOCK_DEPTH:
        info.error = f"{node.name}: blocks are nested more than {MAX_BLOCK_DEPTH} levels deep"
        return [Problem(info.error, node.id)]
    total = 0
    for index in range(node.repeat):
        try:
            defn, args = instance_at(graph, node, index)
            inner_graph = concrete_graph(defn, args, shapes, dtypes)
        except TorchCanvasError as exc:
            info.error = f"{node.name}: {exc}"
            return [Problem(info.error, node.id, kind="shape")]
        inner = _analyze(inner_graph, depth + 1)
        info.inner.append((inner_graph, inner))
        if not inner.ok:
            copy = f" (copy {index + 1} of {node.repeat})" if node.repeat > 1 else ""
            first = inner.errors[0]
            where = inner_graph.node(first.node_id).name + ": " if first.node_id else ""
            message = first.message if first.message.startswith(where) else where + first.message
            info.error = f"{node.name}{copy}, inside block {defn.name}: {message}"
            return [Problem(info.error, node.id, kind="shape")]
        shapes = [inner.shape(nid) for nid in defn.output_ids]
        dtypes = [inner.nodes[nid].dtype for nid in defn.output_ids]
        total += inner.total_params
    info.out_shapes = shapes
    info.out_shape = shapes[0] if shapes else None
    info.dtype = dtypes[0] if dtypes else "float32"
    info.param_count = total
    return []


def _check_dtype(spec: LayerSpec, ctx: RuleContext) -> None:
    """Token ids (int64) only go into layers that take them or pass them on; the latter keep their dtype."""
    if not spec.dtype_neutral and not spec.accepts_tokens and "int64" in ctx.in_dtypes:
        raise ShapeError(
            f"{ctx.name} receives whole-number token ids {fmt(ctx.x)}: add an Embedding layer before it, "
            "or set the Input's dtype to float32",
            ctx.node_id,
        )
    if spec.dtype_neutral and ctx.in_dtypes:
        ctx.dtype = ctx.in_dtypes[0]


def _add_task_problems(graph: Graph, analysis: Analysis, training: TrainingSettings) -> None:
    from core.model.task_check import task_problems  # imports the dataset metadata; graph-only callers skip it

    found = task_problems(graph, analysis, training)
    flagged = {p.node_id for p in found if p.severity == "error"}
    # a node with a task error needs no second, softer note about the same thing
    analysis.problems[:] = [p for p in analysis.problems if not (p.severity == "warning" and p.node_id in flagged)]
    analysis.problems.extend(found)
