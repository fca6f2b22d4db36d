"""The traced graph as a list of layers: each fx node becomes an ``Item`` (layer type, parameters, name, inputs
and the chain of modules it ran in), or a problem naming the module path and the line.

Every problem is collected, so one import run lists every cause at once (one line each), not the first only.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from core.fx_import import modules, ops
from core.fx_import.fold import fold
from core.fx_import.learned import Learned
from core.fx_import.masks import Masks, causal_masks
from core.fx_import.own_layers import own_layers
from core.fx_import.patterns import channel_shuffles
from core.fx_import.recurrent import Recurrent, recurrent_calls
from core.fx_import.trace import module_path, module_type, node_line
from core.model.catalog import LAYERS

MAX_USES = 8  # calls listed in one message: the first ones say what to change


@dataclass
class Item:
    node: fx.Node  # the traced value this layer produces
    type: str  # catalog layer id ("Input" for a placeholder)
    params: dict[str, Any]
    name: str  # attribute name for a module (state_dict keys), the fx name for a call
    inputs: list[fx.Node]
    chain: tuple[str, ...]  # the non-leaf modules it ran in, outermost first (qualified names)
    is_module: bool = False
    path: str = ""  # a layer that is the user's own module (nanoGPT's LayerNorm): its qualified name


@dataclass
class Flat:
    items: list[Item] = field(default_factory=list)
    outputs: list[fx.Node] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    types: dict[str, type] = field(default_factory=dict)  # module path -> its class

    grouped: dict[str, list[str]] = field(default_factory=dict)  # message with `{}` for the module -> modules

    def add_problem(self, text: str, path: str = "") -> None:
        """A message; the same message about several modules (every LayerNorm2d of a ConvNeXt) becomes one."""
        if path and f"`{path}`" in text:
            template = text.replace(f"`{path}`", "`{}`", 1)
            if template not in self.grouped:
                self.problems.append(template)
                self.grouped[template] = []
            if path not in self.grouped[template]:
                self.grouped[template].append(path)
        elif text not in self.problems:
            self.problems.append(text)

    def messages(self) -> list[str]:
        out = []
        for text in self.problems:
            paths = self.grouped.get(text)
            if paths is None:
                out.append(text)
                continue
            more = ""
            if len(paths) > 1:
                more = f" (and {len(paths) - 1} more like it: `{paths[1]}`{', …' if len(paths) > 2 else ''})"
            out.append(text.replace("`{}`", f"`{paths[0]}`{more}", 1))
        return out


def _chain(node: fx.Node, flat: Flat) -> tuple[str, ...]:
    stack = node.meta.get("nn_module_stack") or {}
    keys = list(stack.keys())
    values = list(stack.values())
    if node.op == "call_module" and keys:
        keys, values = keys[:-1], values[:-1]
    chain: list[str] = []
    for key, (path, cls) in zip(keys, values, strict=False):
        if "@" in key:
            flat.add_problem(
                f"`model.{path}` (a `{getattr(cls, '__name__', cls)}`) is called more than once in forward: a "
                "drawing has one box per call; give each call a module of its own."
            )
        chain.append(path)
        flat.types[path] = cls
    return tuple(chain)


def _kind(node: fx.Node, root: nn.Module, path: str) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    values = list(stack.values())
    if values and node.op != "call_module":
        return getattr(values[-1][1], "__name__", "module")
    return module_type(root, path) if path != "model" else type(root).__name__


def _where(node: fx.Node, root: nn.Module, reason: str, leaf: bool = False) -> tuple[str, str]:
    path = module_path(node, leaf)
    line = node_line(node)
    at = f" (at {line})" if line else ""
    return f"`{path}` is {_a(_kind(node, root, path))}: {reason}{at}.", path


def _a(kind: str) -> str:
    """The kind's name in backticks after its article: a `Down`, an `Up`."""
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} `{kind}`"


def _unsupported_calls(calls: dict[str, list[tuple[fx.Node, str]]], root: nn.Module, flat: Flat) -> None:
    """One message per module: everything in it that has no layer, each with its line."""
    for path, found in calls.items():
        uses: list[str] = []
        for node, what in found:
            line = node_line(node)
            use = f"{what}" + (f" at {line}" if line else "")
            if use not in uses:  # a loop or a repeated block makes the same call on the same line many times
                uses.append(use)
        if len(uses) > MAX_USES:
            uses = [*uses[:MAX_USES], f"{len(uses) - MAX_USES} more"]
        kind = _kind(found[0][0], root, path)
        supported = (
            "catalog layers and the calls +, *, torch.cat, torch.flatten, F.relu & co, x.view, x.mean, x.permute, "
            "x.transpose, x.chunk"
        )
        flat.add_problem(
            f"`{path}` is {_a(kind)}: not a TorchCanvas layer: it uses {'; '.join(uses)}; supported: {supported}.",
            path,
        )


def _resolve(value: Any, alias: dict[fx.Node, fx.Node]) -> Any:
    while isinstance(value, fx.Node) and value in alias:
        value = alias[value]
    return value


@dataclass(frozen=True)
class _Step:
    """The value between two layers that one call became (hashable like an fx node; no shape of its own)."""

    node: fx.Node
    index: int


def flatten(gm: fx.GraphModule) -> Flat:
    """Items in execution order; problems instead of items for what has no layer."""
    flat = Flat()
    alias: dict[fx.Node, fx.Node] = {}
    meta_only: set[fx.Node] = set()  # x.size(0), x.shape: used only as arguments of a reshape
    called: set[str] = set()
    calls: dict[str, list[tuple[fx.Node, str]]] = {}
    folded = fold(gm)  # x.size(1) // groups ... as numbers in the calls that use them
    channel_shuffles(gm)  # view, transpose, view: one ChannelShuffle
    pieces = ops.chunk_calls(gm)  # x.chunk(2, dim=1): each x[i] of it is a Chunk layer
    learned = Learned(gm)  # a class token, position embedding or layer scale used in forward: LearnedTensor
    own = own_layers(gm, gm.meta.get("original", gm))  # nanoGPT's LayerNorm: F.layer_norm on its own tensors
    own_parts = {part for layer in own.values() for part in layer.parts}
    recurrent = recurrent_calls(gm)  # out, (h, c) = self.lstm(x); h[-1]: the LSTM's last step
    masks = causal_masks(gm)  # a Transformer encoder given the causal mask: drawn causal
    for node in gm.graph.nodes:
        if node in masks.parts:
            continue
        if node in recurrent.alias:
            alias[node] = recurrent.alias[node]
            continue
        if node in folded or node in pieces or node in own_parts or node in recurrent.skip:
            continue
        if node in own:
            mine = own[node]
            inputs = [_resolve(mine.input, alias)]
            chain = _chain(node, flat)[:-1]  # the module is the layer: it is no block
            flat.items.append(
                Item(node, mine.type, mine.params, mine.path.split(".")[-1], inputs, chain, True, mine.path)
            )
            continue
        if node.op == "placeholder":
            flat.items.append(Item(node, "Input", {}, str(node.target), [], ()))
        elif node.op == "output":
            values = node.args[0]
            if isinstance(values, dict):  # torchvision's segmentation models: {"out": ..., "aux": ...}
                if "out" not in values:
                    keys = ", ".join(repr(k) for k in values)
                    flat.add_problem(f"The model returns a dict ({keys}): only its 'out' entry can be drawn.")
                    continue
                values = values["out"]
            values = list(values) if isinstance(values, (tuple, list)) else [values]
            flat.outputs = [_resolve(v, alias) for v in values if isinstance(v, fx.Node)]
        elif node in learned.skip:
            continue  # drawn where it is used (``learned.item``)
        elif node.op == "get_attr":
            owner, _, attr = str(node.target).rpartition(".")
            users = list(node.users)
            kind = _kind(users[0], gm, f"model.{owner}") if users else "module"
            line = node_line(users[0]) if users else ""
            flat.add_problem(
                f"`model{'.' + owner if owner else ''}` is {_a(kind)}: it uses its tensor `{attr}` directly in "
                f"forward{f' (at {line})' if line else ''}; only TorchCanvas layers can hold weights.",
                f"model{'.' + owner if owner else ''}",
            )
        elif node.op == "call_module":
            _module_item(gm, node, flat, alias, called, recurrent, masks)
        elif _is_meta(node):
            meta_only.add(node)
        else:
            for made in learned.items(node, flat):
                flat.items.append(made)
            try:
                layer = ops.map_call(node)
            except ops.Unsupported as exc:
                if "in place" in str(exc):
                    flat.add_problem(*_where(node, gm, str(exc)))
                else:
                    calls.setdefault(module_path(node), []).append((node, str(exc)))
                continue
            inputs = [_resolve(v, alias) for v in layer.inputs]
            if not layer.type:
                alias[node] = inputs[0]
                continue
            chain = _chain(node, flat)
            steps = [(layer.type, layer.params), *layer.then]
            for i, (layer_id, params) in enumerate(steps):
                # a call that is several layers (x.mean([2, 3]): pool, flatten): the inner values get keys of their own
                value: Any = node if i == len(steps) - 1 else _Step(node, i)
                flat.items.append(Item(value, layer_id, params, node.name, inputs, chain))
                inputs = [value]
    _check_meta_uses(flat, meta_only, gm, masks.parts)
    _unsupported_calls(calls, gm, flat)
    _lists_in_chains(flat, gm.meta.get("original", gm))
    return flat


def _lists_in_chains(flat: Flat, root: nn.Module) -> None:
    """An ``nn.ModuleList`` is never called, so fx records only its members (``convs.0``, ``convs.1``): it goes
    back into each chain, as a block of its own, so the members keep their keys (``classifier.0.convs.0``). Only
    where its members run one after another: a U-Net's list, whose members take turns with a pooling outside
    it, would be a block that feeds itself."""
    found: dict[str, type] = {}
    chains: list[list[str]] = []
    for item in flat.items:
        chain: list[str] = []
        own = isinstance(item.node, fx.Node) and item.node.op == "call_module"  # a layer that is a list's member
        leaf = str(item.node.target) if own else item.path  # or the user's own layer in a ModuleDict (nanoGPT)
        for path in [*item.chain, leaf] if leaf else item.chain:
            start = chain[-1] if chain else ""
            parts = path.split(".")
            for i in range(len(start.split(".")) if start else 0, len(parts) - 1):
                between = ".".join(parts[: i + 1])
                try:
                    module = root.get_submodule(between)
                except AttributeError:
                    continue
                if isinstance(module, (nn.ModuleList, nn.ModuleDict)) and len(between) > len(start):
                    chain.append(between)
                    found[between] = type(module)
            chain.append(path)
        chains.append(chain[:-1] if leaf else chain)
    for path, cls in found.items():
        inside = [i for i, chain in enumerate(chains) if path in chain]
        if inside == list(range(inside[0], inside[-1] + 1)) or _between_joins(path, inside, chains, flat, root):
            flat.types[path] = cls
        else:
            flat.add_problem(
                f"`model.{path}` is an `nn.{cls.__name__}` whose members take turns with other calls in forward: "
                "a drawing keeps a list's members together in one block, so their weights would lose their names; "
                "call the members one after another, or make each an attribute of its own.",
                f"model.{path}",
            )
    for item, chain in zip(flat.items, chains, strict=True):
        item.chain = tuple(chain)


def _between_joins(path: str, inside: list[int], chains: list[list[str]], flat: Flat, root: nn.Module) -> bool:
    """A U-Net's encoder: the list's members take turns with calls of the list's owner (``F.max_pool2d`` between
    ``down_path.0`` and ``down_path.1``). Calls that hold no weights join the list's block, drawn between its
    members, so the members keep their keys; the values the owner keeps (the skip connections) become the block's
    outputs. A call with weights, or one inside another module, would change its keys: then False (refused)."""
    owner = chains[inside[0]][: chains[inside[0]].index(path)]
    between = [i for i in range(inside[0], inside[-1] + 1) if i not in inside]
    for i in between:
        item = flat.items[i]
        if chains[i] != owner:
            return False
        if item.is_module and not _stateless_call(item, root):
            return False
    for i in between:
        chains[i] = [*owner, path]
    return True


def _stateless_call(item: Item, root: nn.Module) -> bool:
    """A module call without weights or buffers (``self.pool``); never a learned tensor (its key would move)."""
    node = item.node
    if not isinstance(node, fx.Node) or node.op != "call_module":
        return False
    return not any(True for _ in root.get_submodule(str(node.target)).state_dict())


def _is_meta(node: fx.Node) -> bool:
    if node.op == "call_method" and node.target in ("size", "dim"):
        return True
    if node.op == "call_function" and node.target is getattr:
        return True
    if node.op == "call_function" and node.target is operator.getitem:
        base = node.args[0]
        return isinstance(base, fx.Node) and _is_meta(base)
    return False


def _check_meta_uses(flat: Flat, meta_only: set[fx.Node], root: nn.Module, drawn_as_nothing: set[fx.Node]) -> None:
    """x.size(0) / x.shape may only feed a reshape (where it means 'the batch size')."""
    for node in meta_only:
        for user in node.users:
            if user in meta_only or user in drawn_as_nothing:  # x.device moving a causal mask
                continue
            if user.op == "call_method" and user.target in ("view", "reshape"):
                continue
            if user.op == "call_function" and getattr(user.target, "__name__", "") == "reshape":
                continue
            if user.op == "call_function" and user.target is torch.arange:  # x.device: where Positions' steps live
                continue
            reason = "it computes with the tensor's shape (x.size(), x.shape), which a drawing cannot show"
            flat.add_problem(*_where(user, root, f"not a TorchCanvas layer: {reason}"))


def _module_item(
    gm: fx.GraphModule,
    node: fx.Node,
    flat: Flat,
    alias: dict[fx.Node, fx.Node],
    called: set[str],
    recurrent: Recurrent,
    masks: Masks,
) -> None:
    target = str(node.target)
    module = gm.get_submodule(target)
    try:
        layer = modules.from_module(module, node)
    except ops.Unsupported as exc:
        flat.add_problem(*_where(node, gm, str(exc), leaf=True))
        return
    if node in recurrent.problems:
        flat.add_problem(*_where(node, gm, recurrent.problems[node], leaf=True))
        return
    if node in masks.causal:
        why = masks.causal[node]
        if why is not None:
            flat.add_problem(*_where(node, gm, why, leaf=True))
            return
        layer.params["causal"] = True
    if LAYERS[layer.type].has_param("return_sequences"):  # LSTM, GRU, RNN: as forward uses the output
        layer.params["return_sequences"] = recurrent.sequences(node)
    if target in called and any(True for _ in module.parameters(recurse=False)):
        flat.add_problem(
            f"`model.{target}` (a `{type(module).__name__}`) is called more than once: its weights are shared "
            f"between calls (at {node_line(node) or 'forward'}); TorchCanvas layers each have their own weights."
        )
        return
    called.add(target)
    inputs = [_resolve(v, alias) for v in layer.inputs]
    name = target.split(".")[-1]
    flat.items.append(Item(node, layer.type, layer.params, name, inputs, _chain(node, flat), True))
