"""Which torchvision weights a file is, by torch.hub's name for the download (``resnet18-f37072fd.pth``).

Below code and datasets because both ask it: the exported script names ``ResNet18_Weights.IMAGENET1K_V1`` instead
of this machine's cache path, and the data fit reads the weights' own transforms. It reads only torchvision's
weights enums, nothing of the app; ``core.pretrained.catalog`` lists the same enums for the gallery."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse


def weights_for_file(path: str | os.PathLike[str]) -> str | None:
    """The torchvision weights a file is the download of, by its name (``resnet18-f37072fd.pth`` ->
    ``"ResNet18_Weights.IMAGENET1K_V1"``), any weights of any classifier, not only the defaults; None for another
    file. Lets generated code say ``ResNet18_Weights.IMAGENET1K_V1.get_state_dict()`` instead of a cache path.
    Raises ImportError without torchvision."""
    # deferred for start-up: torchvision takes a second to import, and the editor and codegen load this module
    import torchvision
    from torchvision.models import get_model_weights, list_models

    name = Path(path).name
    for model in list_models(module=torchvision.models):
        for weights in get_model_weights(model):
            if os.path.basename(urlparse(weights.url).path) == name:
                return f"{type(weights).__name__}.{weights.name}"
    return None
