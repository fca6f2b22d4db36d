"""The network as Keras 3 code: a sibling of ``core.code.codegen`` reading the same graph, shapes and layer names.

A chain becomes ``keras.Sequential``, anything with a merge or several inputs/outputs the functional API. Each
layer is named as its PyTorch attribute (``fc1``), so the two models' summaries line up, and a comment says
where Keras differs. A class Keras lacks (``keras_layers.HELPERS``: padding_idx's constraint) is defined after
``build_model``, from which on the script and the notebook take the model. Layers TorchCanvas cannot translate
are all named in one ``KerasExportError``, each with its reason (a kind without a translation, or a parameter
value Keras lacks): nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.code.codegen import CodegenError, literal
from core.code.imports import used_names
from core.code.keras_layers import HELPERS, KERAS_LAYERS, KerasLayer, NoEquivalent
from core.code.line_wrap import call_lines, with_comment
from core.errors import ExportError
from core.model.analysis import Analysis, analyze
from core.model.blocks import BLOCK_TYPE
from core.model.graph import Graph
from core.model.names import NameAllocator
from core.model.node import Node
from core.model.shape_rules import fmt

PYTHON_NAMES = {"keras", "layers", "os", "np", "model", "build_model", "inputs", "outputs"}


class KerasExportError(ExportError):
    """Some layers have no Keras translation; the message lists every one of them and why, ``count`` says how
    many (the code view's status line)."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


@dataclass
class KerasCode:
    """``build_model()`` source (imports included) and what a reader or a test needs to know about it."""

    source: str
    sequential: bool
    fewer_params: int = 0  # trainable parameters the Keras model has fewer than ours (LSTM/RNN second bias)
    layer_names: dict[str, str] = field(default_factory=dict)  # node id -> Keras layer name


def _check(graph: Graph, analysis: Analysis) -> dict[str, list[KerasLayer]]:
    """Each node's Keras layers, or one error naming every node without an equivalent."""
    if not analysis.ok:
        listing = "\n".join(f"- {p.message}" for p in analysis.errors)
        raise CodegenError(f"The network has problems to fix before code can be generated:\n{listing}")
    mapped: dict[str, list[KerasLayer]] = {}
    missing: list[str] = []
    for nid in analysis.order:
        node = graph.node(nid)
        if node.type in ("Input", "Output"):
            continue
        mapper = KERAS_LAYERS.get(node.type)
        if mapper is None:
            missing.append(f"- {node.name} ({node.type}): {untranslated(node.type)}")
            continue
        try:
            mapped[nid] = mapper(analysis.nodes[nid])
        except NoEquivalent as exc:
            missing.append(f"- {node.name} ({node.type}): {exc}")
    if missing:
        raise KerasExportError(
            f"{len(missing)} layer{'s' if len(missing) > 1 else ''} ha{'ve' if len(missing) > 1 else 's'} no Keras "
            "translation, so TorchCanvas cannot write this network in Keras yet:\n"
            + "\n".join(missing)
            + "\n(The PyTorch code and exports are unaffected.)",
            len(missing),
        )
    return mapped


def untranslated(kind: str) -> str:
    """Why a node of a kind with no Keras mapping is refused: a gap in TorchCanvas, not in Keras (a block is
    an ``nn.Sequential`` or a class of the user's, which Keras would nest; its layers may all translate)."""
    if kind == BLOCK_TYPE:
        return (
            "TorchCanvas does not translate blocks to Keras yet; Ungroup it (Block menu), and any block inside it, "
            "to export its layers"
        )
    return f"TorchCanvas does not translate {kind} layers to Keras yet"


def _is_chain(graph: Graph, analysis: Analysis) -> bool:
    inputs = [n for n in analysis.order if graph.node(n).type == "Input"]
    outputs = [n for n in analysis.order if graph.node(n).type == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    return all(
        len([e for e in graph.inputs_of(nid) if e is not None]) <= 1
        and len([e for e in graph.consumers(nid) if e.dst in analysis.nodes]) <= 1
        for nid in analysis.order
    )


def _call(
    indent: str, layer: KerasLayer, name: str, tail: str = "", target: str = "", frozen: bool = False
) -> list[str]:
    """The layer's call, wrapped with what comes before it on its line (``target = ``) counted in; a frozen
    node's layers say ``trainable=False`` (their weights stay, and a BatchNormalization runs in inference mode)."""
    args = [*layer.args, f'name="{name}"', *(["trainable=False"] if frozen else [])]
    return call_lines(indent, target + layer.head, args, tail)


def _comment(layer: KerasLayer, info_shape: str, last: bool) -> str:
    return "; ".join(part for part in ((info_shape if last else ""), layer.note) if part)


def _input_line(node: Node, analysis: Analysis, name: str) -> str:
    shape = analysis.shape(node.id) or (None,)
    dtype = ', dtype="int32"' if node.params.get("dtype") == "int64" else ""  # token ids
    return f'keras.Input(shape={literal(list(shape[1:]))}{dtype}, name="{name}")'


def generate_keras_model(graph: Graph, analysis: Analysis | None = None, title: str = "") -> KerasCode:
    """The Keras model as a module defining ``build_model()``; raises KerasExportError or CodegenError."""
    analysis = analysis or analyze(graph)
    mapped = _check(graph, analysis)
    names = NameAllocator(PYTHON_NAMES)
    layer_names = {nid: names.allocate(graph.node(nid).name, "layer") for nid in analysis.order}
    sequential = _is_chain(graph, analysis)
    body = (_sequential if sequential else _functional)(graph, analysis, mapped, layer_names)
    body += _helper_lines("\n".join(body))
    about = f" for {title!r}" if title and title.isprintable() and '"' not in title and "\\" not in title else ""
    source = "\n".join([*header_lines(about), "", "", *body]) + "\n"
    fewer = sum(layer.fewer_params for layers in mapped.values() for layer in layers)
    return KerasCode(source, sequential, fewer, layer_names)


def _helper_lines(body: str) -> list[str]:
    """The classes of ``HELPERS`` the body reads (and those they read), each after two blank lines."""
    chosen: list[str] = []
    while True:
        used = used_names("\n\n".join([body, *(HELPERS[name] for name in chosen)]))
        more = [name for name in HELPERS if name in used and name not in chosen]
        if not more:
            return [line for name in HELPERS if name in chosen for line in ("", "", *HELPERS[name].splitlines())]
        chosen += more


def header_lines(about: str) -> list[str]:
    return [
        f'"""Keras 3 model generated by TorchCanvas{about}."""',
        "",
        "# The same layers, with the same names, as the PyTorch model. Inputs keep PyTorch's channels-first",
        '# layout [N, C, H, W]: image layers say data_format="channels_first" (the torch backend runs it as is).',
        "# Weights start from Keras' initialisers (glorot_uniform, zero biases), not PyTorch's kaiming_uniform.",
        "",
        "import os",
        "",
        'os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on PyTorch: no TensorFlow',
        "",
        "import keras",
        "from keras import layers",
    ]


def _sequential(
    graph: Graph, analysis: Analysis, mapped: dict[str, list[KerasLayer]], names: dict[str, str]
) -> list[str]:
    lines = ["def build_model() -> keras.Model:", "    return keras.Sequential(", "        ["]
    for nid in analysis.order:
        node = graph.node(nid)
        if node.type == "Input":
            lines.append(f"            {_input_line(node, analysis, names[nid])},")
            continue
        if node.type == "Output":
            continue
        shape = fmt(analysis.nodes[nid].out_shape)
        for i, layer in enumerate(mapped[nid]):
            call = _call("            ", layer, names[nid] + layer.suffix, ",", frozen=not node.trainable)
            lines += with_comment(call, _comment(layer, shape, i == len(mapped[nid]) - 1))
    lines += ["        ],", '        name="Net",', "    )"]
    return lines


def _functional(
    graph: Graph, analysis: Analysis, mapped: dict[str, list[KerasLayer]], names: dict[str, str]
) -> list[str]:
    lines = ["def build_model() -> keras.Model:"]
    inputs: list[str] = []
    outputs: list[str] = []
    for nid in analysis.order:
        node = graph.node(nid)
        sources = [names[e.src] for e in graph.inputs_of(nid) if e is not None]
        if node.type == "Input":
            inputs.append(names[nid])
            lines.append(f"    {names[nid]} = {_input_line(node, analysis, names[nid])}")
            continue
        if node.type == "Output":
            outputs.append(sources[0])
            continue
        shape = fmt(analysis.nodes[nid].out_shape)
        value = f"[{', '.join(sources)}]" if len(sources) > 1 else sources[0]
        for i, layer in enumerate(mapped[nid]):
            call = _call(
                "    ", layer, names[nid] + layer.suffix, f"({value})", f"{names[nid]} = ", frozen=not node.trainable
            )
            lines += with_comment(call, _comment(layer, shape, i == len(mapped[nid]) - 1))
            value = names[nid]
    ins = inputs[0] if len(inputs) == 1 else f"[{', '.join(inputs)}]"
    outs = outputs[0] if len(outputs) == 1 else f"[{', '.join(outputs)}]"
    lines.append(f'    return keras.Model(inputs={ins}, outputs={outs}, name="Net")')
    return lines
