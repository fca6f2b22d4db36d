"""Image files read with Pillow, pasted verbatim into exported scripts.

A folder of image files is the one source that needs Pillow and whose pixels pass
through a colour-mode and a size step before they become arrays, so its reader lives
apart from the array loaders of ``sources``: the app's folder preview, the drawing
pad and the script read a picture with the same functions, and a deep (16-bit) scan
or pretrained weights' centre crop is handled in one place (see __init__.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.portable.checks import IMAGE_SUFFIXES, check_class_folders


def convert_image(image, mode: str):
    """A Pillow image in ``mode`` ("L" or "RGB"). A 16-bit image (PNG or TIFF mode
    I;16, microscopy and medical scans) is scaled from 0..65535 to 0..255 first:
    Pillow's own convert clips every value above 255 to white. A 32-bit integer
    image (mode I) is scaled the same when its values fit 16 bits, a float one
    (mode F) from 0..1; otherwise each such image is scaled from its own lowest
    to its highest value."""
    from PIL import Image  # here: only image folders need Pillow

    if not (image.mode.startswith("I") or image.mode == "F"):
        return image.convert(mode)
    values = np.asarray(image, dtype=np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0, 0)
    if image.mode.startswith("I;16") or (
        image.mode == "I" and low >= 0 and high <= 65535
    ):
        low, high = 0.0, 65535.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        low, high = 0.0, 1.0
    scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0
    grey = Image.fromarray(np.rint(scaled).clip(0, 255).astype(np.uint8), "L")
    return grey if mode == "L" else grey.convert(mode)


def fit_image(
    image,
    size: tuple[int, int],
    crop: tuple | None = None,  # [crop]
):
    """A Pillow image at size (height, width)."""
    if crop is not None:  # (resize_size, crop_size): pretrained weights' rule  # [crop]
        return crop_image(image, crop)
    return image.resize((size[1], size[0]))


def crop_image(image, crop: tuple):
    """Pretrained weights' own rule: the short side to resize_size, then the centre
    square; the very pixels weights.transforms() gives a Pillow image, written out
    as the app reads every picture with this function, so both get the same numbers."""
    from PIL import Image  # here, as in convert_image: only image folders need Pillow

    resize_size, crop_size = crop
    width, height = image.size
    long = int(resize_size * max(width, height) / min(width, height))
    new = (resize_size, long) if width <= height else (long, resize_size)
    image = image.resize(new, Image.Resampling.BILINEAR)
    left = round((new[0] - crop_size) / 2.0)
    top = round((new[1] - crop_size) / 2.0)
    return image.crop((left, top, left + crop_size, top + crop_size))


def image_files(path: str) -> tuple[list, list]:
    """Every picture with its class number (a sub-folder per class), and the classes."""
    root = Path(path)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = []
    for label, name in enumerate(classes):
        for file in sorted((root / name).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if not file.is_file():  # a named pipe would wait for a writer forever
                raise ValueError(
                    f"{file}: not a regular file; an image folder must hold "
                    "image files only: remove it"
                )
            files.append((file, label))
    check_class_folders(root, classes, [label for _, label in files])
    return files, classes


def read_image(
    file: Path,
    size: tuple[int, int],
    channels: int,
    crop: tuple | None = None,  # [crop]
) -> np.ndarray:
    """One picture's bytes, (H, W) or (H, W, 3), at size (height, width) (fit_image)."""
    from PIL import Image  # here: only image folders need Pillow

    try:
        with Image.open(file) as opened:
            image = convert_image(opened, "L" if channels == 1 else "RGB")
            image = fit_image(
                image,
                size,
                crop,  # [crop]
            )
            return np.array(image, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(
            f"{file}: this image cannot be read ({exc}); delete or replace the file"
        ) from None


def load_image_folder(
    path: str,
    size: tuple[int, int],
    channels: int,
    crop: tuple | None = None,  # [crop]
) -> tuple:
    """One sub-folder per class; every image at size (height, width), all in memory."""
    files, classes = image_files(path)
    pixels = []
    for file, _ in files:
        image = read_image(
            file,
            size,
            channels,
            crop,  # [crop]
        )
        pixels.append(image)
    x = torch.from_numpy(np.stack(pixels)).float() / 255.0  # (N, H, W[, C]) bytes
    x = x.unsqueeze(1) if channels == 1 else x.permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor([label for _, label in files], dtype=torch.int64)
    return x, labels, None, None, classes
