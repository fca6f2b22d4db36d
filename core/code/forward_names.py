"""The names of a generated forward's local values: one per (node, output port), reused once nothing else
needs it, as a person writes ``x = self.conv(x)``. A value is named after what made it: an Input's name
(``tokens``) is the argument's alone, a computed value is ``x``, ``x1``, ... (``out`` on a residual's main
path), and a residual's skip is kept as ``identity`` until its Add, as torchvision writes BasicBlock."""

from __future__ import annotations

import re

from core.model.graph import Graph
from core.model.names import NameAllocator
from core.model.node import Node

NEUTRAL = re.compile(r"(x|out)\d*")  # the names of computed values, which a later value may take over


class ForwardNames:
    """Forward's local variable names, one per (node, output port): a value's variable is reused once nothing
    else needs it."""

    def __init__(
        self, graph: Graph, order: list[str], nodes: dict[str, Node], inputs: list[str], block: bool = False
    ) -> None:
        local = NameAllocator({"self", "torch", "nn", "F"})
        self.var_of: dict[tuple[str, int], str] = {(nid, 0): local.allocate(nodes[nid].name, "x") for nid in inputs}
        self.remaining: dict[tuple[str, int], int] = {}
        for nid in order:
            for e in graph.consumers(nid):
                if e.dst in nodes:
                    key = (nid, e.src_port)
                    self.remaining[key] = self.remaining.get(key, 0) + 1
        self.temp = NameAllocator(set(self.var_of.values()) | {"self", "torch", "nn", "F"})
        self.rank: dict[str, int] = {name: i for i, name in enumerate(self.var_of.values())}  # earlier: primary
        self.spare: list[str] = []
        # A residual (a value read twice, met again at an Add) has its main path in ``out``; a block's class is
        # written as torchvision writes BasicBlock: a shortcut computed from the input alone in ``identity``, and
        # ``out = out + identity``.
        adds = any(nodes[nid].type == "Add" for nid in order)
        self.residual = adds and any(count > 1 for count in self.remaining.values())
        self.block = block and self.residual
        self.arguments = set(self.var_of.values())
        self.skips: dict[tuple[tuple[str, int], str], str] = {}  # (value, the Add reading it) -> identity
        self.free_skips: list[str] = []  # identity names whose Add has read them
        self.parked: dict[str, str] = {}  # an Add -> the name its skip came from, which its sum takes back

    def skip(self, key: tuple[str, int], add: str) -> str:
        """The name a residual's skip is kept under until its Add (torchvision's ``identity = x``)."""
        name = self.free_skips.pop(0) if self.free_skips else fresh_temp(self.temp, self.rank, "identity")
        self.skips[(key, add)] = name
        self.remaining[key] -= 1
        if not self.block:  # the main path meanwhile is ``out``: ``x = out + identity``
            self.parked[add] = self.var_of[key]
        # in a block's class the main path goes on in the name it had: ``identity = out``, ``out = self.ln_2(out)``
        return name

    def _live(self, name: str) -> bool:
        return any(self.remaining.get(key, 0) > 0 for key, held in self.var_of.items() if held == name)

    def used(self, key: tuple[str, int]) -> bool:
        return self.remaining.get(key, 0) > 0

    def consume(self, sources: list[tuple[str, int]], reader: str = "") -> tuple[list[str], list[str]]:
        """The argument names for a node reading ``sources``, and those no later node needs any more."""
        args, own = [], []
        for s in sources:
            kept = self.skips.pop((s, reader), None)
            if kept is not None:  # the skip's Add: its identity is free again after this
                args.append(kept)
                self.free_skips.append(kept)
                continue
            args.append(self.var_of[s])
            own.append(s)
            self.remaining[s] -= 1
        return args, [self.var_of[s] for s in own if self.remaining[s] == 0]

    def _reusable(self, dying: list[str]) -> list[str]:
        """An argument's own name (``tokens``) names the input only: what a layer makes of it is another thing
        (embeddings, then LSTM outputs, then class scores), named as every computed value is: x, x1, ... or out.
        A residual block's main path is ``out``, never its argument (torchvision's ``out = self.conv1(x)``)."""
        parked = set(self.parked.values())
        if self.block:
            return [name for name in dying if name not in self.arguments and name not in parked]
        return [n for n in dying if n not in parked and (n not in self.arguments or NEUTRAL.fullmatch(n))]

    def target(self, key: tuple[str, int], dying: list[str], shortcut: bool = False) -> str:
        """The variable a node's result goes into: a dying input's, a spare one, or a fresh one. In a residual
        block the main path's variables come before the arguments (``out = out + x``), and a shortcut computed
        from an argument alone (``shortcut``: its one reader is an Add) goes into ``identity``."""
        if self.block:
            dying.sort(key=lambda name: (name in self.arguments, self.rank.setdefault(name, len(self.rank))))
        else:
            dying.sort(key=lambda name: self.rank.setdefault(name, len(self.rank)))
        if self.block and shortcut and dying and set(dying) <= self.arguments and "identity" not in self.temp:
            target = self.temp.allocate("identity")
            self.rank.setdefault(target, len(self.rank))
            self.spare.extend(name for name in self._reusable(dying) if name not in self.spare)
            self.var_of[key] = target
            return target
        back = self.parked.pop(key[0], None)
        if back is not None and not self.block and not self._live(back) and NEUTRAL.fullmatch(back):
            self.spare.extend(name for name in self._reusable(dying) if name not in self.spare)
            self.var_of[key] = back
            return back
        dying = self._reusable(dying)
        if dying:
            target = dying[0]
        elif self.spare:
            target = self.spare.pop(0)
        else:
            target = fresh_temp(self.temp, self.rank, "out" if self.residual else "x")
        self.spare.extend(name for name in dying[1:] if name not in self.spare)
        self.var_of[key] = target
        return target


def fresh_temp(temp: NameAllocator, rank: dict[str, int], base: str = "x") -> str:
    """x, then x1, x2, ... (or out, out1, ...): the first not yet used in this forward."""
    for k in range(len(rank) + 2):
        candidate = base if k == 0 else f"{base}{k}"
        if candidate not in temp:
            temp.reserve(candidate)
            rank.setdefault(candidate, len(rank))
            return candidate
    return temp.allocate(base)  # pragma: no cover
