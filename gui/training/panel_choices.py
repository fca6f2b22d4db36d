"""What the training form offers to choose from: the built-in datasets, the data-file source, the devices this
computer has and the schedulers' labels. Asked each time the form is built, so a new GPU or source shows up."""

from __future__ import annotations

import sys
from typing import Any

from core.datasets.spec import sources
from core.settings import TrainingSettings
from gui.data.sources import OPEN_ENTRIES, OPEN_FILE, OPEN_FOLDER

__all__ = ["OPEN_ENTRIES", "OPEN_FILE", "OPEN_FOLDER", "SCHEDULER_LABELS", "builtin_datasets", "device_choices"]
SCHEDULER_LABELS = {
    "none": "None (constant rate)",
    "StepLR": "Step decay (StepLR)",
    "CosineAnnealingLR": "Cosine (CosineAnnealingLR)",
    "OneCycleLR": "One cycle (OneCycleLR)",
    "ReduceLROnPlateau": "Lower on plateau (ReduceLROnPlateau)",
}


def builtin_datasets() -> list[tuple[str, str]]:
    """(label, spec) of the sets the list offers by name, offline ones first: those asked for by name ("list")
    and the generated ones with options ("options": shapes, sequences), offered with their default options."""
    offered = [s for s in sources() if s.ask in ("list", "options") and not s.user_files]
    return [(f"{name} ({s.list_label or 'generated'})", name) for s in offered for name in s.names]


def device_choices(probe: bool = True) -> list[tuple[str, str]]:
    """(label, settings value): Auto, CPU, then each CUDA device by name. Naming the GPUs takes torch (~500 MB and
    seconds); without ``probe`` they are listed only when torch is imported already (the form's device list asks
    again when it is opened: ``panel_form.DeviceCombo``), so an idle window does not import it."""
    choices = [("Auto (GPU if there is one)", "auto"), ("CPU", "cpu")]
    if not probe and "torch" not in sys.modules:
        return choices
    try:
        import torch  # deferred for start-up: an idle window imports no torch (seconds, ~500 MB)

        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                value = "cuda" if i == 0 else f"cuda:{i}"
                if _valid_value("device", value):
                    choices.append((f"GPU {i}: {torch.cuda.get_device_name(i)}", value))
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            choices.append(("Apple GPU (MPS)", "mps"))
    except Exception:  # a broken CUDA install must not take the form down
        pass
    return choices


def _valid_value(field: str, value: Any) -> bool:
    try:
        TrainingSettings(**{field: value}).validate()
        return True
    except Exception:
        return False
