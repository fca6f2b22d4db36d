"""What a ``call_module`` node becomes: the catalog layer of the module's class, its parameters read from the
module's attributes (``Conv2d.stride`` -> ``stride``) by the kind's ``from_torch`` (``core.model.kinds``);
``MODULES`` is the view of those readers by layer id. The auto parameters (``in_channels``, ``num_features``,
``in_features``) are left to the analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import fx, nn

from core.fx_import.ops import Layer, Unsupported
from core.model.catalog import LAYERS
from core.model.kinds import from_torch, imported_classes
from core.model.kinds.kind import NotImportable

MODULES: dict[str, Callable[[Any], dict[str, Any]]] = from_torch()
OTHER_CLASSES: dict[str, str] = imported_classes()  # torchvision's StochasticDepth ... by module.QualName


def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def catalog_module_types() -> dict[type, str]:
    """torch classes that map to a catalog entry: these stay whole when tracing."""
    found: dict[type, str] = {}
    for layer_id, spec in LAYERS.items():
        cls_name = (spec.torch_class or "").removeprefix("nn.")
        cls = getattr(nn, cls_name, None)
        if spec.torch_class and spec.torch_class.startswith("nn.") and isinstance(cls, type) and layer_id in MODULES:
            found[cls] = layer_id
    return found


def supported_names() -> str:
    return ", ".join(sorted(t.__name__ for t in catalog_module_types()))


def from_module(module: nn.Module, node: fx.Node) -> Layer:
    layer_id = catalog_module_types().get(type(module)) or OTHER_CLASSES.get(class_name(type(module)))
    if layer_id is None:
        raise Unsupported(f"not a TorchCanvas layer; supported: {supported_names()}")
    value = node.args[0] if node.args else None
    if not isinstance(value, fx.Node):
        raise Unsupported("its input is not a tensor from the network")
    if layer_id == "MultiheadAttention" and (list(node.args[:3]) != [value] * 3 or node.kwargs.get("attn_mask")):
        raise Unsupported("only self-attention (query, key and value the same tensor, no mask) is a TorchCanvas layer")
    try:
        params = MODULES[layer_id](_BatchFirst(module) if node.meta.get("drawn_batch_first") else module)
    except NotImportable as exc:
        raise Unsupported(str(exc)) from None
    return Layer(layer_id, params, [value])


class _BatchFirst:
    """A time-first recurrent layer read as the batch-first one it is drawn as (``time_major``): the same weights and
    settings, batch_first=True."""

    batch_first = True

    def __init__(self, module: nn.Module) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)
