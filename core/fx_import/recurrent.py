"""How forward uses an nn.LSTM / GRU / RNN, and whether a drawing's recurrent layer gives exactly that.

The module returns ``(output, state)``; a drawing's LSTM gives the whole output sequence or its last step
(``return_sequences``). The textbook classifiers take the last step as ``out[:, -1]`` or as the top layer's final
state ``h[-1]`` (``out, (h, c) = self.lstm(x)``; ``out, h = self.gru(x)``): for one direction both are the
output's last step, so the layer is drawn with "last" and those values are the layer's own. Everything else that
would change the numbers (a state passed in, the cell state ``c``, another layer's state ``h[0]``, the backward
half of a bidirectional layer's ``h[-1]``) is refused, naming the line and what to write instead.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from core.fx_import.calls import Unsupported
from core.fx_import.trace import node_line

_KINDS = (nn.LSTM, nn.GRU, nn.RNN)


@dataclass
class Recurrent:
    last: set[fx.Node] = field(default_factory=set)  # layer calls drawn with return_sequences "last"
    alias: dict[fx.Node, fx.Node] = field(default_factory=dict)  # out[:, -1] and h[-1] -> the layer's call
    skip: set[fx.Node] = field(default_factory=set)  # the unpacking between them (out, (h, c)): no layer
    problems: dict[fx.Node, str] = field(default_factory=dict)  # layer call -> why it cannot be drawn

    def sequences(self, node: fx.Node) -> str:
        return "last" if node in self.last else "sequence"


def recurrent_calls(gm: fx.GraphModule) -> Recurrent:
    found = Recurrent()
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        module = gm.get_submodule(str(node.target))
        if type(module) not in _KINDS:
            continue
        unpacking: set[fx.Node] = set()
        lasts: list[fx.Node] = []
        try:
            sequence = _plan(node, module, unpacking, lasts)
        except Unsupported as exc:
            found.problems[node] = str(exc)
            found.skip |= unpacking | set(lasts)
            continue
        found.skip |= unpacking - set(lasts)
        if not sequence and lasts:
            found.last.add(node)
        found.alias.update((value, node) for value in lasts)
    return found


def _at(node: fx.Node) -> str:
    line = node_line(node)
    return f" at {line}" if line else ""


def _item(node: fx.Node, of: fx.Node) -> int | None:
    """``i`` for ``of[i]`` (the unpacking ``out, h = ...`` makes one per name), else None."""
    if node.op == "call_function" and node.target is operator.getitem and node.args[0] is of:
        index = node.args[1]
        if isinstance(index, int) and not isinstance(index, bool):
            return index
    return None


def _is_last_step(node: fx.Node, of: fx.Node) -> bool:
    """``out[:, -1]`` or ``out[:, -1, :]`` of a batch-first output."""
    if node.op != "call_function" or node.target is not operator.getitem or node.args[0] is not of:
        return False
    index = node.args[1]
    every = slice(None)
    return isinstance(index, tuple) and list(index) in ([every, -1], [every, -1, every])


def _plan(node: fx.Node, module: Any, unpacking: set[fx.Node], lasts: list[fx.Node]) -> bool:
    """Fills ``unpacking`` and ``lasts``: the values that are the layer's own (the output's last step, or the
    output itself when the whole sequence is used: then True). Raises Unsupported with the sentence for the user."""
    kind = type(module).__name__
    attr = str(node.target)
    if any(a is not None for a in (*node.args[1:], *node.kwargs.values())):  # None: zeros, as a drawing starts
        raise Unsupported(
            f"it is given a starting state{_at(node)}, while a drawing's {kind} starts from zeros: call it with the "
            f"sequence alone, `self.{attr}(x)`"
        )
    sequence = False
    states: list[fx.Node] = []
    outputs: list[fx.Node] = []
    for user in node.users:
        index = _item(user, node)
        if index not in (0, 1):
            raise Unsupported(
                f"forward uses its (output, state) pair whole{_at(user)}: unpack it, `out, _ = self.{attr}(x)`"
            )
        unpacking.add(user)
        if index == 0:
            outputs.append(user)
            for use in user.users:
                if _is_last_step(use, user):
                    lasts.append(use)
                else:
                    sequence = True
        elif kind == "LSTM":
            states.extend(_hidden_of_lstm(user, attr, unpacking))
        else:
            states.append(user)
    unpacking.update(use for state in states for use in state.users)  # refused: no second message about them
    finals = [_last_layer(use, state, module, attr) for state in states for use in state.users]
    if sequence and finals:
        raise Unsupported(
            f"forward uses both the whole output sequence and the final state h{_at(node)}, while a drawing's "
            f"{kind} gives one of them: take the last step as `out[:, -1]` instead of `h[-1]`"
        )
    if sequence:  # the output is the layer's value; out[:, -1] beside it a Take token (``tensor_calls.index``)
        lasts[:] = outputs
    lasts.extend(finals)
    return sequence


def _hidden_of_lstm(state: fx.Node, attr: str, unpacking: set[fx.Node]) -> list[fx.Node]:
    """``h`` of ``(h, c)``; using ``c`` is refused (a drawing's LSTM gives only its output)."""
    found = []
    for use in state.users:
        index = _item(use, state)
        if index not in (0, 1):
            raise Unsupported(f"forward uses its state (h, c) whole{_at(use)}: unpack it, `out, (h, c) = ...`")
        unpacking.add(use)
        if index == 1 and use.users:
            unpacking.update(use.users)  # refused: no second message about c[-1]
            first = next(iter(use.users))
            raise Unsupported(
                f"forward uses its cell state c{_at(first)}, which a drawing's LSTM does not give: take the "
                f"output's last step instead, `h[-1]` of `out, (h, c) = self.{attr}(x)` or `out[:, -1]`"
            )
        if index == 0:
            found.append(use)
    return found


def _last_layer(use: fx.Node, state: fx.Node, module: Any, attr: str) -> fx.Node:
    """``h[-1]`` (or ``h[0]`` of one layer, ``h.squeeze(0)``): the top layer's final state, which is the output's
    last step for one direction. Other layers and the backward direction are refused."""
    kind = type(module).__name__
    count = int(module.num_layers) * (2 if module.bidirectional else 1)
    index = _item(use, state)
    if use.op == "call_method" and use.target == "squeeze" and list(use.args[1:]) == [0] and count == 1:
        index = 0
    if index is None:
        raise Unsupported(
            f"forward uses its final state h whole{_at(use)}: a drawing's {kind} gives its output; use the top "
            "layer's state, `h[-1]`, or the output's last step, `out[:, -1]`"
        )
    if module.bidirectional:
        raise Unsupported(
            f"h[{index}]{_at(use)} of a bidirectional {kind} is one direction's final state (h[-1]: the backward "
            f"direction's, which has read the whole sequence), while a drawing's {kind} gives the output at the "
            "last step, both directions side by side: no drawing gives the same numbers; use `out[:, -1]` in the "
            "model if that is what you mean, or bidirectional=False"
        )
    if index not in (-1, count - 1):
        raise Unsupported(
            f"h[{index}]{_at(use)} is the final state of layer {index % count + 1} of the {count} stacked layers, "
            f"while a drawing's {kind} gives the top layer's: use `h[-1]`, or split the layers into {count} "
            f"separate nn.{kind} modules"
        )
    return use
