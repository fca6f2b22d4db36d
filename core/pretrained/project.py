"""A pretrained classifier as a new project: torchvision's network imported with blocks (``core.fx_import``), its
ImageNet weights loaded into it first (so the import's check compares the pretrained network), and the project set
to start training from the weights file in torch's cache (``training.initial_weights``: loaded by name and shape, so
a new head's weights start fresh while the backbone keeps its own; the exported script names the same file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.fx_import import import_model
from core.fx_import.source import load_source
from core.pretrained.catalog import PretrainedEntry, find_entry
from core.pretrained.fetch import FetchCancelled, Fetched, PretrainedError

if TYPE_CHECKING:
    from core.fx_import import ImportResult


def pretrained_project(
    name: str, fetched: Fetched, *, entry: PretrainedEntry | None = None, cancel: Callable[[], bool] | None = None
) -> ImportResult:
    """Import torchvision's ``name`` holding ``fetched``'s weights; the project's initial weights are that file.

    Keys the drawing has no layer for (googlenet's and inception's auxiliary classifiers, which only run while
    training) are left out; any other difference is a ``PretrainedError``."""
    entry = entry or find_entry(name)
    if entry is None:
        raise PretrainedError(f"torchvision has no pretrained classifier named {name}.")
    module = load_source(f"torchvision:{name}")  # built without downloading anything, auxiliary heads left out
    own = module.state_dict()
    try:
        module.load_state_dict({k: v for k, v in fetched.state.items() if k in own})
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise PretrainedError(f"The weights in {fetched.path} do not fit torchvision's {name}: {first}") from None
    if cancel is not None and cancel():
        raise FetchCancelled()
    result = import_model(module, entry.input_shape, name=name)
    project = result.project
    accuracy = f", {entry.acc1:.1f} % top-1" if entry.acc1 is not None else ""
    project.description = (
        f"torchvision's {name} pretrained on ImageNet ({entry.weights}{accuracy}). It starts from those weights "
        f"({fetched.path.name} in torch's cache); freeze the layers before the head to train only the head."
    )
    project.training.initial_weights = str(fetched.path)
    return result
