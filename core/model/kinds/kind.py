"""One layer kind as one object: its catalog entry, shape rule, parameter count, fx import and Keras mapping.

A family module (``conv.py``, ``norm.py`` ...) defines its kinds with ``kind(...)`` and ends with the tuple of
them; ``core.model.kinds`` joins the tuples in palette order, and every lookup (``LAYERS``, ``RULES``,
``PARAM_COUNTS``, the fx import's ``MODULES``, ``KERAS_LAYERS``) is a view derived from that one list. Nothing
here imports torch or Keras: a kind's fx mapping reads the module's attributes, whatever its class object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from core.model.kinds.keras import Mapper
from core.model.kinds.shapes import RuleContext, Shape
from core.model.kinds.spec import DOCS, LayerSpec, ParamKind, ParamSpec

Rule = Callable[[RuleContext], Shape]
Count = Callable[[dict[str, Any]], int]
FromTorch = Callable[[Any], dict[str, Any]]  # the torch module -> its catalog parameters (auto ones left out)
# Where a kind's output lives, which decides whether a layer after it may overwrite it in place: "new" memory of its
# own, free to overwrite; "input" its input's memory (a view such as Flatten, or the input itself: Identity, Dropout
# when evaluating), so what it views decides; "kept" memory its own backward pass reads again (Sigmoid, ReLU, LSTM);
# "shared" one memory for every sample of the batch (a learned tensor expanded over it); "piece" one of several
# views torch hands out at once (chunk), which torch refuses to overwrite.
Memory = Literal["new", "input", "kept", "shared", "piece"]


class NotImportable(Exception):
    """This torch module's settings have no TorchCanvas equivalent; the message says which (the fx import
    reports it as the module's problem)."""


@dataclass(frozen=True)
class LayerKind:
    """Everything about one layer kind. ``rule`` None: the shape passes through; ``count`` None: no parameters;
    ``from_torch`` None: the fx import does not map the torch class; ``keras`` None: no Keras export;
    ``keeps_shape``: the task check walks through it to find the layer that sets the output's shape;
    ``imports``: classes outside ``torch.nn`` (``module.QualName``) the fx import also reads as this kind, e.g.
    torchvision's ``StochasticDepth``; ``memory``: where its output lives (``Memory``), which
    ``core.model.in_place`` reads to refuse an in-place layer that would overwrite what another one still reads;
    ``memory_in_place``: the same with its ``inplace`` set, as the next in-place layer sees it ("new": what it
    overwrote was checked for it; "kept": torch's in-place variant keeps its result for backward, as ``relu_``)."""

    spec: LayerSpec
    rule: Rule | None = None
    count: Count | None = None
    from_torch: FromTorch | None = None
    keras: Mapper | None = None
    keeps_shape: bool = False
    imports: tuple[str, ...] = ()
    memory: Memory = "new"
    memory_in_place: Memory = "new"

    @property
    def id(self) -> str:
        return self.spec.id


def kind(
    id: str,
    category: str,
    help: str,
    *params: ParamSpec,
    rule: Rule | None = None,
    count: Count | None = None,
    from_torch: FromTorch | None = None,
    keras: Mapper | None = None,
    keeps_shape: bool = False,
    imports: tuple[str, ...] = (),
    memory: Memory = "new",
    memory_in_place: Memory = "new",
    torch_class: str | None = "",
    display: str = "",
    inputs: int = 1,
    outputs: int = 1,
    prefix: str = "",
    doc: str = "",
    extra: tuple[tuple[str, Any], ...] = (),
    forward: str = "",
    returns_state: bool = False,
    accepts_tokens: bool = False,
    dtype_neutral: bool = False,
    helper: str = "",
) -> LayerKind:
    """A kind whose torch class is ``nn.<id>`` unless told otherwise (None: plain tensor code, ``forward``)."""
    if torch_class == "":
        torch_class = f"nn.{id}"
    url = doc or (f"{DOCS}torch.{torch_class}.html" if torch_class else "")
    spec = LayerSpec(
        id=id,
        display=display or id,
        category=category,
        help=help,
        torch_class=torch_class,
        params=params,
        inputs=inputs,
        outputs=outputs,
        name_prefix=prefix or id.lower(),
        doc_url=url,
        extra_args=extra,
        forward_template=forward,
        returns_state=returns_state,
        accepts_tokens=accepts_tokens,
        dtype_neutral=dtype_neutral,
        helper=helper,
    )
    return LayerKind(spec, rule, count, from_torch, keras, keeps_shape, imports, memory, memory_in_place)


# --- parameters the families share ----------------------------------------------------------------------------
def P(name: str, kind: ParamKind, default: Any, help: str, **options: Any) -> ParamSpec:
    return ParamSpec(name, kind, default, help, **options)


def auto(name: str, help: str) -> ParamSpec:
    """A size read from the incoming shape (``in_features``, ``in_channels``) unless the user pins it."""
    return P(name, "int", None, help, min=1, auto=True, positional=True)


def size(name: str, default: Any, help: str, dims: int, **options: Any) -> ParamSpec:
    return P(name, "size", default, help, dims=dims, **options)


def inplace() -> ParamSpec:
    return P("inplace", "bool", False, "Overwrite the input instead of allocating (saves memory; the input is lost).")


def dim(default: int, help: str) -> ParamSpec:
    return P("dim", "int", default, help, min=-8, max=8, always=True)


# --- reading torch modules -------------------------------------------------------------------------------------
def torch_size(value: Any) -> Any:
    """A torch size tuple as the catalog wants it: one number when all are equal, else a list."""
    if isinstance(value, (tuple, list)):
        items = [int(v) for v in value]
        return items[0] if len(set(items)) == 1 else items
    return value


def read_inplace(m: Any) -> dict[str, Any]:
    return {"inplace": bool(getattr(m, "inplace", False))}
