"""The rules a node's new parameter values and a block's repeat count obey, checked before anything changes.

``Graph`` stores nodes and wires and announces changes; whether one value may be set (a layer's parameter, an
auto one unpinned, a block's argument, a copy count) depends only on the node and the block library, and the
editor's undoable commands ask the same rules without touching the graph. Block rules are imported where they
are used: ``core.model.blocks`` builds on the graph module.
"""

from __future__ import annotations

from typing import Any

from core.errors import GraphError, ParameterError
from core.model.node import Node


def params_with(node: Node, blocks: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """The node's user-set parameters with one of them set to ``value`` (checked), without changing the node.

    ``None`` for an auto parameter unpins it so it follows the input shape again. A bad value raises
    ``ParameterError`` whose message does not name the node (the caller adds it). The one rule behind both
    ``Graph.set_param`` and the editor's undoable ``gui.canvas.commands.set_param``.
    """
    params = dict(node.params)
    spec = node.spec
    if node.block is not None:
        # here, not above: core.model.blocks imports core.model.graph, which imports this module (cycle)
        from core.model.blocks import validate_args

        defn = blocks.get(node.block)
        if defn is not None and value is None:
            params.pop(name, None)
        elif defn is not None:
            params.update(validate_args(defn, {name: value}))
        return params
    if spec is None:  # an unknown layer type keeps what it has; set_params refuses to change it
        params[name] = value
    elif not spec.has_param(name):
        raise ParameterError(f"{spec.id} has no parameter {name!r}")
    elif value is None and spec.param(name).auto:
        params.pop(name, None)
    else:
        params[name] = spec.param(name).validate(value)
    return params


def check_repeat(node: Node, blocks: dict[str, Any], repeat: int, first_block: str | None = None) -> None:
    """Raise the reason ``set_repeat`` would refuse this copy count (and first copy), or return."""
    if node.block is None:
        raise GraphError(f"{node.name} is not a block; only blocks repeat.", node.id)
    # here, not above: core.model.blocks imports core.model.graph, which imports this module (cycle)
    from core.model.blocks import MAX_REPEAT

    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= MAX_REPEAT:
        raise ParameterError(f"{node.name}: repeat must be a whole number from 1 to {MAX_REPEAT}.", node.id)
    if repeat > 1 and (node.input_count() != 1 or node.output_count() != 1):
        raise GraphError(f"{node.name}: only a block with one input and one output can repeat.", node.id)
    if first_block is not None and first_block not in blocks:
        raise GraphError(f"{node.name}: there is no block named {first_block!r}.", node.id)
