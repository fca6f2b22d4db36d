"""What the training form offers to choose from: the built-in datasets, the data-file source, the devices this
computer has and the schedulers' labels. Asked each time the form is built, so a new GPU or source shows up."""

from __future__ import annotations

import sys
from typing import Any

from core.settings import TrainingSettings

OPEN_FILE = "Open a data file…"  # the dataset list's last entry: any data as a NumPy file
SCHEDULER_LABELS = {
    "none": "None (constant rate)",
    "StepLR": "Step decay (StepLR)",
    "CosineAnnealingLR": "Cosine (CosineAnnealingLR)",
    "OneCycleLR": "One cycle (OneCycleLR)",
    "ReduceLROnPlateau": "Lower on plateau (ReduceLROnPlateau)",
}


def builtin_datasets() -> list[tuple[str, str]]:
    """(label, spec) of the sets the list offers by name (sources asked as "list"), offline ones first."""
    from core.datasets.spec import sources

    return [(f"{name} ({s.list_label})", name) for s in sources() if s.ask == "list" for name in s.names]


def file_source() -> tuple[str, str]:
    """(kind, open dialog filter) of the source the list's Open file... entry opens."""
    from core.datasets.spec import sources

    source = next(s for s in sources() if s.ask == "file")
    return source.kind, source.file_filter


def device_choices(probe: bool = True) -> list[tuple[str, str]]:
    """(label, settings value): Auto, CPU, then each CUDA device by name. Naming the GPUs takes torch (~500 MB and
    seconds); without ``probe`` they are listed only when torch is imported already (the form's device list asks
    again when it is opened: ``panel_form.DeviceCombo``), so an idle window does not import it."""
    choices = [("Auto (GPU if there is one)", "auto"), ("CPU", "cpu")]
    if not probe and "torch" not in sys.modules:
        return choices
    try:
        import torch

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
