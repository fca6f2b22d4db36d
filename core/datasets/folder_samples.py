"""The images of a folder too big for memory, decoded one by one when a DataLoader worker asks for them.

The reading is the exported script's own (``core.portable.image_stream.ImageFiles``); this subclass only puts a
failed decode in the trainer's words. Kept apart from ``core.datasets.folder`` because a torch ``Dataset``
subclass needs torch when its class is made, and describing a folder (the editor does it after every edit) must
not import torch.
"""

from __future__ import annotations

import warnings

import torch

from core.datasets.folder import UnreadableImage
from core.portable.image_stream import ImageFiles


class FolderSamples(ImageFiles):
    """The script's lazily decoded pictures; an unreadable one raises ``UnreadableImage``, which the trainer
    shows as one line naming the file even when a DataLoader worker process raised it."""

    def raw(self, index: int) -> tuple[torch.Tensor, int]:
        try:  # a huge image's DecompressionBombWarning would print raw in the worker: it is decoded and resized
            with warnings.catch_warnings(action="ignore"):
                return super().raw(index)
        except ValueError as exc:
            raise UnreadableImage(str(exc)) from None
