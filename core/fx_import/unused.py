"""Layers built but never called in forward (in eval mode): a drawing shows what forward computes, so they are left
out of it, and their weights with them, with a note naming them. EfficientNet's first block builds an expansion it
skips at ratio 1; GoogLeNet's auxiliary classifiers run only while training. Refusing the whole model for them
would keep a network that imports exactly out of reach; keeping them would draw boxes nothing feeds."""

from __future__ import annotations

from torch import fx, nn


def _touched(gm: fx.GraphModule) -> tuple[set[str], set[str]]:
    """The module paths forward went through (every node's module stack, "" for the model itself) and the
    modules it called whole (a leaf's own submodules, an ``nn.TransformerEncoder``'s layers, count as used)."""
    through: set[str] = {""}
    whole: set[str] = set()
    for node in gm.graph.nodes:
        for path, _ in (node.meta.get("nn_module_stack") or {}).values():
            through.add(str(path))
        if node.op == "call_module":
            whole.add(str(node.target))
        elif node.op == "get_attr":
            through.add(str(node.target).rpartition(".")[0])
    return through, whole


def _used(owner: str, through: set[str], whole: set[str]) -> bool:
    if owner in through or owner in whole:
        return True
    parts = owner.split(".")
    return any(".".join(parts[:i]) in whole for i in range(1, len(parts)))


def never_called(gm: fx.GraphModule, module: nn.Module) -> tuple[list[str], list[str]]:
    """The state_dict keys of ``module`` that belong to modules forward never called, and those modules, each
    named once at its outermost level (``aux1``, not each of its layers)."""
    through, whole = _touched(gm)
    keys: list[str] = []
    modules: list[str] = []
    for key in module.state_dict():
        owner = key.rpartition(".")[0]
        if _used(owner, through, whole):
            continue
        keys.append(key)
        parts = owner.split(".")
        outer = next(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in through)
        if outer not in modules:
            modules.append(outer)
    return keys, modules


def note(modules: list[str], count: int) -> str:
    """The words the CLI and the window show for what was left out."""
    listing = ", ".join(f"`model.{m}`" for m in modules[:5]) + (
        f" and {len(modules) - 5} more" if len(modules) > 5 else ""
    )
    return (
        f"{listing} {'is' if len(modules) == 1 else 'are'} never called in forward (in eval mode): left out of the "
        f"drawing, and {count} of the original's weights with {'it' if len(modules) == 1 else 'them'}."
    )
