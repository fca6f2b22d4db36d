"""The images of a folder too big for memory, decoded one by one when a DataLoader worker asks for them.

Kept apart from ``core.datasets.folder`` because a torch ``Dataset`` subclass needs torch when its class is made,
and describing a folder (the editor does it after every edit) must not import torch.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.datasets.folder import UnreadableImage
from core.portable.images import convert_image, fit_image


class FolderSamples(torch.utils.data.Dataset):
    """Lazily decoded images of a big folder, normalised and shaped like the in-memory path."""

    def __init__(
        self,
        files: list[tuple[Path, int]],
        size: tuple[int, int],
        channels: int,
        shape: tuple,
        crop: tuple[int, int] | None = None,
    ) -> None:
        self.files, self.size, self.channels, self.shape, self.crop = files, size, channels, shape, crop
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.files)

    def raw(self, index: int) -> tuple[torch.Tensor, int]:
        file, label = self.files[index]
        try:  # a huge image's DecompressionBombWarning would print raw in the worker: it is decoded and resized
            with warnings.catch_warnings(action="ignore"), Image.open(file) as opened:
                image = fit_image(convert_image(opened, "L" if self.channels == 1 else "RGB"), self.size, self.crop)
                pixels = np.asarray(image, dtype=np.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UnreadableImage(f"{file}: this image cannot be read ({exc}); delete or replace the file") from None
        x = torch.from_numpy(pixels.copy()).float() / 255.0
        x = x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)
        return x, label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x, label = self.raw(index)
        if self.mean is not None and self.std is not None:
            x = (x - self.mean[0]) / self.std[0]
        return x.reshape(self.shape), label
