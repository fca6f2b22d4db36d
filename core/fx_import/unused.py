"""Layers built but never called in forward (in eval mode), and tensors a module holds but never reads: a drawing
shows what forward computes, so they are left out of it, and their weights with them, with a note naming them.
EfficientNet's first block builds an expansion it skips at ratio 1; GoogLeNet's auxiliary classifiers run only
while training. Refusing the whole model for them would keep a network that imports exactly out of reach; keeping
them would draw boxes nothing feeds."""

from __future__ import annotations

from torch import fx, nn


def _touched(gm: fx.GraphModule) -> tuple[set[str], set[str], set[str]]:
    """The module paths forward went through (every node's module stack, "" for the model itself), the modules it
    called whole (a leaf's own submodules, an ``nn.TransformerEncoder``'s layers, count as used) and the tensors
    it read itself (``get_attr``: a class token, a layer scale)."""
    through: set[str] = {""}
    whole: set[str] = set()
    read: set[str] = set(gm.meta.get("reads", ()))  # tensors read through a copy the trace made (own_layers)
    for node in gm.graph.nodes:
        for path, _ in (node.meta.get("nn_module_stack") or {}).values():
            through.add(str(path))
        if node.op == "call_module":
            whole.add(str(node.target))
        elif node.op == "get_attr":
            read.add(str(node.target))
    return through, whole, read


def _used(key: str, whole: set[str], read: set[str]) -> bool:
    if key in read:
        return True
    parts = key.split(".")[:-1]
    return any(".".join(parts[:i]) in whole for i in range(1, len(parts) + 1))


def never_called(gm: fx.GraphModule, module: nn.Module) -> tuple[list[str], list[str]]:
    """The state_dict keys of ``module`` that forward never uses, and what holds them: a module forward never
    called, named once at its outermost level (``aux1``, not each of its layers), or the tensor itself where its
    module ran but never read it."""
    through, whole, read = _touched(gm)
    keys: list[str] = []
    holders: list[str] = []
    for key in module.state_dict():
        if _used(key, whole, read):
            continue
        keys.append(key)
        parts = key.split(".")
        holder = next(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in through)
        if holder not in holders:
            holders.append(holder)
    return keys, holders


def note(holders: list[str], count: int) -> str:
    """The words the CLI and the window show for what was left out."""
    listing = ", ".join(f"`model.{m}`" for m in holders[:5]) + (
        f" and {len(holders) - 5} more" if len(holders) > 5 else ""
    )
    one = len(holders) == 1
    return (
        f"{listing} {'is' if one else 'are'} never used in forward (in eval mode): left out of the drawing, and "
        f"{count} of the original's weights with {'it' if one else 'them'}."
    )
