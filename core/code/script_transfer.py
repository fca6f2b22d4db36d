"""Transfer learning in the exported script (issue 27): frozen nodes, two phases, initial weights.

What the project asks is written as a PyTorch user would write it by hand: ``requires_grad_(False)`` on the
frozen submodules (``freeze``), an optimizer over the trainable parameters only, frozen BatchNorm layers kept in
``eval()`` while the rest trains, fastai's ``fine_tune`` switch to a second phase (``unfreeze``: everything
trains, with a new optimizer at a lower learning rate) and earlier weights loaded by name (``start_from``). The
trainer calls these very functions of the script, so the app and the exported file train alike.
Only what the project uses is emitted: a project with nothing frozen and no initial weights gets none of it.

The weights the script starts from follow the app's rule (``core.training.setup.start_weights``): the initial
weights setting, else, while fine-tuning, the imported network's own weights (``core.files.initial_weights``), a
file beside the project that export and the run folder put beside the script (``start_from_file`` looks there).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.code.block_names import code_names
from core.code.block_signature import signature_memo
from core.code.block_values import instance_values
from core.code.line_wrap import call_lines, with_comment
from core.code.script_data import constant_line
from core.code.templates import function_lines
from core.datasets.spec import Constant
from core.errors import TorchCanvasError
from core.hub_files import weights_for_file
from core.model.analysis import Analysis
from core.model.blocks import BlockDef, dependency_order, instance_at
from core.model.catalog import get_spec
from core.model.graph import Graph
from core.model.names import MODULE_ATTRIBUTES, NameAllocator, module_attribute
from core.model.node import Node
from core.weights_reading import final_weights

if TYPE_CHECKING:  # only a type here: code generation reads a project, files loads and saves it
    from core.files.project import Project

NORM_TYPES = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")


@dataclass(frozen=True)
class Transfer:
    """What the script does beside plain training from scratch."""

    frozen: tuple[str, ...] = ()  # the Net's attributes frozen (trainable off), those with weights
    norms: bool = False  # a frozen part holds a BatchNorm: keep it in eval mode while training
    phases: bool = False  # two phases: unfreeze after FREEZE_EPOCHS epochs
    initial: str = ""  # the initial weights setting's file (.pt or .safetensors)
    imported: str = ""  # else, while fine-tuning, the imported weights' file name (beside the project)
    torchvision: str = ""  # the file is torchvision's download of these weights: "ResNet18_Weights.IMAGENET1K_V1"

    @property
    def file(self) -> str:
        """The file the script's ``start_from_file`` loads: the setting's, else the imported one."""
        return self.initial or self.imported

    @property
    def safetensors(self) -> bool:
        return self.file.endswith(".safetensors")


def _holds_norm(graph: Graph, node: Node) -> bool:
    """Whether the node is a BatchNorm, or a block with one inside (at any depth)."""
    if node.block is None:
        return node.type in NORM_TYPES
    names = dependency_order(graph.blocks, {n for n in (node.block, node.first_block) if n})
    return any(n.type in NORM_TYPES for name in names for n in graph.blocks[name].graph.nodes)


def _frozen_paths(
    graph: Graph, analysis: Analysis, attr_names: dict[str, str], prefix: str = ""
) -> list[tuple[str, bool]]:
    """(module path, holds a BatchNorm) of every frozen node with weights, in forward order: a frozen node whole
    (a block with all its layers), and inside a trainable block instance the layers frozen in its definition,
    in each copy (``layer1.0.conv1``, ``layer1.1.conv1``)."""
    found: list[tuple[str, bool]] = []
    for nid in analysis.order:
        node, info = graph.node(nid), analysis.nodes[nid]
        if nid not in attr_names:
            continue
        path = prefix + attr_names[nid]
        if not node.trainable:
            if info.param_count > 0 or _holds_norm(graph, node):
                found.append((path, _holds_norm(graph, node)))
        elif node.block is not None:
            for index, (inner_graph, inner) in enumerate(info.inner):
                copy = f"{path}.{index}." if node.repeat > 1 else f"{path}."
                defn, _ = instance_at(graph, node, index)
                found += _frozen_paths(inner_graph, inner, _inner_attributes(defn, inner_graph, inner), copy)
    return found


def _inner_attributes(defn: BlockDef, graph: Graph, analysis: Analysis) -> dict[str, str]:
    """node id -> its attribute in the block's module: a chain written as nn.Sequential numbers its children,
    a class names them as ``core.code.block_signature.class_context`` does."""
    from core.code.block_signature import chain_order, inline  # it imports core.code.codegen

    if inline(defn):
        return {nid: str(i) for i, nid in enumerate(chain_order(defn))}
    attrs = NameAllocator(MODULE_ATTRIBUTES)
    names: dict[str, str] = {}
    for nid in analysis.order:
        node = graph.node(nid)
        if node.block is not None or get_spec(node.type).torch_class is not None:
            names[nid] = module_attribute(attrs, node.name, node.key, "layer")
    return names


def transfer_plan(project: Project, analysis: Analysis, attr_names: dict[str, str]) -> Transfer:
    """The project's frozen parts (a frozen block freezes all of it; a layer frozen inside a block's definition
    is frozen in every copy) and fine-tuning settings. A frozen node without weights (a ReLU) changes nothing
    and is left out."""
    s = project.training
    with signature_memo(), code_names(project.graph.blocks, set()), instance_values(project.graph, analysis):
        frozen = _frozen_paths(project.graph, analysis, attr_names)
    return Transfer(
        frozen=tuple(path for path, _ in frozen),
        norms=any(norm for _, norm in frozen),
        phases=bool(frozen) and 0 < s.freeze_epochs < s.epochs,
        initial=initial_file(s.initial_weights),
        imported=imported_file(project) if s.fine_tune and not s.initial_weights else "",
        torchvision=torchvision_weights(s.initial_weights),
    )


def imported_file(project: Project) -> str:
    """The name of the imported weights the project keeps beside itself, "" for none (or a name that is not a
    plain file name, which the app ignores too: ``core.files.initial_weights.initial_weights``)."""
    name = project.extra.get("initial_weights")
    if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
        return ""
    return name


def torchvision_weights(setting: str) -> str:
    """The torchvision weights a cached download is (named as torch.hub names them: ``resnet18-f37072fd.pth``),
    so the script loads them through torchvision's API, not from this machine's cache path; "" otherwise."""
    if not re.search(r"-[0-9a-f]{8,}\.pth$", Path(setting).name):
        return ""
    try:
        return weights_for_file(setting) or ""
    except ImportError:  # no torchvision: the script names the file itself
        return ""


def imports(t: Transfer) -> list[str]:
    """The weights enum the script names: ``from torchvision.models import ResNet18_Weights``."""
    return [f"from torchvision.models import {t.torchvision.split('.')[0]}"] if t.torchvision else []


def initial_file(setting: str) -> str:
    """The initial weights as a file: a run folder gives its final weights (last.pt, else best.pt)."""
    if not setting:
        return ""
    try:
        return str(final_weights(setting)) if Path(setting).is_dir() else setting
    except (TorchCanvasError, OSError):
        return setting


def constants(t: Transfer, unfreeze_lr_factor: float, freeze_epochs: int) -> list[str]:
    """The constants the transfer-learning lines read, one item each."""
    lines = []
    if t.frozen:  # one item, maybe several lines: a constant is kept or left out whole
        names = [json.dumps(name) for name in t.frozen]
        frozen = call_lines("", "FROZEN = ", names, brackets="[]")
        lines.append("\n".join(with_comment(frozen, "trainable off: these keep their weights")))
    if t.phases:
        lines += [
            f"FREEZE_EPOCHS = {freeze_epochs}  # then phase two: everything trains",
            f"UNFREEZE_LR_FACTOR = {unfreeze_lr_factor!r}  # phase two's learning rate, times LEARNING_RATE",
        ]
    if t.file and not t.torchvision:
        where = "beside this script" if t.imported else "beside this script, or a full path"
        said = f"the weights training starts from, {where}"  # above the line where it is past 88 columns
        lines.append(constant_line(Constant("INITIAL_WEIGHTS", t.file, said)))
    return lines


def functions(t: Transfer) -> list[str]:
    """``start_from``, ``start_from_file``, ``freeze``, ``keep_frozen_norms_in_eval`` and ``unfreeze``
    (``core/code/templates/transfer.py``), those the project uses."""
    used = {
        "start_from": t.file,
        "start_from_file": t.file and not t.torchvision,
        "freeze": t.frozen,
        "keep_frozen_norms_in_eval": t.norms,
        "unfreeze": t.phases,
    }
    flags = {"imported": bool(t.imported and not t.initial), "frozen": bool(t.frozen), "safetensors": t.safetensors}
    lines: list[str] = []
    for name in (name for name, wanted in used.items() if wanted):
        lines += [*function_lines("transfer", name, flags), "", ""]
    return lines[:-2]
