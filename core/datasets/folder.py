"""An image folder with one sub-folder per class (the ImageFolder layout).

Small folders are decoded once into tensors (the fast path, and exactly what the exported script does);
folders too big for memory stay on disk and are read per sample through a DataLoader with workers
(``core.datasets.folder_samples``). Describing a folder and its image geometry needs no torch: the editor does it
from its first paint on, so torch is imported when a folder is loaded.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.datasets.fit import weights_crop
from core.datasets.info import DataInfo
from core.datasets.spec import Constant, DataSpec, LoadRequest, ScriptLoad, Source, file_path, register
from core.errors import DataError
from core.portable.checks import IMAGE_SUFFIXES, check_class_folders
from core.settings import Normalization, TrainingSettings

if TYPE_CHECKING:
    from core.datasets.base import Dataset

MAX_IN_MEMORY_BYTES = 1_500_000_000  # decoded float32 pixels; above this the folder is read lazily


def image_geometry(
    input_shape: tuple[int, ...] | None,
    resize: tuple[int, int] | None,
    found: tuple[tuple[int, int], int] | None = None,
) -> tuple[tuple[int, int], int]:
    """Size (height, width) and channel count images are brought to: the resize setting, else the Input's, else
    ``found`` (the folder's most common size and its colour: what the preview shows), else 32x32 in colour."""
    fallback = found[1] if found else 3
    channels = input_shape[0] if input_shape and len(input_shape) == 3 and input_shape[0] in (1, 3) else fallback
    if resize:
        return (int(resize[0]), int(resize[1])), channels
    if input_shape and len(input_shape) == 3:
        return (int(input_shape[1]), int(input_shape[2])), channels
    return found[0] if found else (32, 32), channels


def wxh(size: tuple[int, int]) -> str:
    """An image size kept as (height, width), in the words of image viewers and ``--size``: width x height (the
    survey printed 40x20 for files 20 pixels wide)."""
    return f"{size[1]}x{size[0]}"


MAX_HEADERS = 2000  # image headers read to tell a folder's sizes and colour; beyond, the first ones tell


@dataclass(frozen=True)
class Headers:
    """What a folder's image headers say (Pillow reads no pixels for that)."""

    sizes: tuple[tuple[tuple[int, int], int], ...]  # ((height, width), count), most common first
    channels: int | None  # 3 when any image is in colour, 1 when all are grey; None: no image read
    unreadable: tuple[str, ...]  # the loader's words for each file it will refuse
    read: int  # headers read (at most MAX_HEADERS)
    deep: int = 0  # 16-bit or 32-bit images (modes I;16, I, F): scaled to 8 bits by convert_image

    @property
    def found(self) -> tuple[tuple[int, int], int] | None:
        return (self.sizes[0][0], self.channels or 3) if self.sizes else None


def image_headers(files: list[Path], limit: int = MAX_HEADERS) -> Headers:
    # deferred: imports Pillow; the editor describes data without it
    from PIL import Image

    sizes: Counter = Counter()
    colour, grey, deep, bad = 0, 0, 0, []
    for file in files[:limit]:
        try:  # a huge image's DecompressionBombWarning is the loader's to turn into words, not a printed warning
            with warnings.catch_warnings(action="ignore"), Image.open(file) as image:
                sizes[(image.height, image.width)] += 1
                grey, colour = (grey + 1, colour) if image.mode in GREY_MODES else (grey, colour + 1)
                deep += image.mode.startswith("I") or image.mode == "F"
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            bad.append(f"{file}: this image cannot be read ({exc}); delete or replace the file")
    channels = 3 if colour else 1 if grey else None
    return Headers(tuple(sizes.most_common()), channels, tuple(bad), min(len(files), limit), deep)


GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def describe_folder(spec: DataSpec) -> DataInfo:
    """Classes, the image sizes and colour found, and what the loader will refuse (an empty or single class, an
    unreadable image), in the loader's words, so ``check`` says what ``train`` would."""
    root = Path(spec.paths[0]).expanduser()
    files, classes = scan_images(root)
    headers = image_headers([f for f, _ in files])
    problems = list(headers.unreadable[:1])
    try:
        check_class_folders(root, classes, [label for _, label in files])
    except ValueError as exc:
        problems.insert(0, str(exc))
    return DataInfo(
        root.name or str(root),
        None,
        len(classes) or None,
        adapts_to_input=True,
        image_sizes=tuple(size for size, _ in headers.sizes),
        channels=headers.channels,
        problems=tuple(problems),
    )


NOT_REGULAR = {stat.S_IFIFO: "named pipe (FIFO)", stat.S_IFDIR: "folder", stat.S_IFSOCK: "socket"}


def check_regular(file: Path) -> None:
    """Only regular files are opened: reading a named pipe waits for a writer forever (training hung in the
    image reader, and the window with it) and a device may never end."""
    try:
        mode = os.stat(file).st_mode
    except OSError as exc:  # a dangling link, a file gone meanwhile
        raise DataError(f"{file}: this image cannot be read ({exc.strerror}); delete or replace the file") from None
    if not stat.S_ISREG(mode):
        kind = NOT_REGULAR.get(stat.S_IFMT(mode), "device")
        raise DataError(
            f"{file}: not a regular file but a {kind}; an image folder must hold image files only: remove it"
        )


def list_images(root: Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """Every image file with its class number, each checked to be a regular file before anything opens it, and
    every class folder checked to hold images (two classes at least)."""
    files, classes = scan_images(root)
    try:
        check_class_folders(root, classes, [label for _, label in files])
    except ValueError as exc:
        raise DataError(str(exc)) from None
    return files, classes


def scan_images(root: Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """The image files and class names as found (the survey tells an empty class; ``list_images`` refuses it)."""
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Give a folder with one sub-folder of images per class.")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = [
        (file, label)
        for label, name in enumerate(classes)
        for file in sorted((root / name).iterdir())
        if file.suffix.lower() in IMAGE_SUFFIXES
    ]
    for file, _ in files:
        check_regular(file)
    return files, classes


class UnreadableImage(DataError):
    """An image of a big folder that fails to decode, which happens in a DataLoader worker process. torch
    re-raises it in the trainer as ``UnreadableImage(text of the worker's traceback)``; only the original
    one-line message is kept, so the user reads which file to fix instead of a traceback."""

    def __init__(self, message: str) -> None:
        if message.startswith("Caught ") and f"{type(self).__name__}: " in message:
            message = message.rsplit(f"{type(self).__name__}: ", 1)[1].strip()
        super().__init__(message)


def fits_memory(count: int, size: tuple[int, int], channels: int, max_bytes: int | None = None) -> bool:
    """Whether ``count`` pictures fit in memory as float32 (``MAX_IN_MEMORY_BYTES``): then they are read once into
    tensors, by the app and by the exported script; else both read them from disk batch by batch."""
    limit = MAX_IN_MEMORY_BYTES if max_bytes is None else max_bytes
    return count * channels * size[0] * size[1] * 4 <= limit


def streams(spec: DataSpec, shape: tuple[int, ...], resize: tuple[int, int] | None) -> bool:
    """Whether the exported script reads the folder batch by batch, as the app would: a folder too big for memory,
    or one that cannot be looked at here (it may be where the script runs: the resnet18 example's imagenet/train).
    A few-shot spec's few pictures are read whole, as the app reads them (``few_shot``)."""
    if spec.keep_classes or spec.per_class:
        return False
    try:
        files, _ = scan_images(Path(spec.paths[0]).expanduser())
    except DataError:
        return True
    found = None if resize or len(shape) == 3 else image_headers([f for f, _ in files]).found
    size, channels = image_geometry(shape, resize, found)
    return not fits_memory(len(files), size, channels)


def load_folder_raw(spec: DataSpec, size: tuple[int, int], channels: int, crop: tuple[int, int] | None = None) -> tuple:
    # deferred: core.portable.images imports torch; the editor describes data without it
    from core.portable.images import load_image_folder

    try:
        return load_image_folder(spec.paths[0], size, channels, crop)
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None


def load_folder(
    spec: DataSpec,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    normalize: Normalization,
    input_shape: tuple[int, ...] | None,
    resize: tuple[int, int] | None,
    max_bytes: int | None = None,
    crop: tuple[int, int] | None = None,
) -> tuple | Dataset:
    """Raw tensors for a small folder (the caller finishes them); a lazy Dataset for a big one. ``crop``
    (resize_size, crop_size): each image resized and centre-cropped as pretrained weights ask."""
    # deferred: imports torch; the editor describes data without it
    from core.datasets.base import Dataset, fit_shape
    from core.datasets.folder_samples import FolderSamples
    from core.portable.image_stream import normalize_splits, split_files

    files, classes = list_images(Path(spec.paths[0]).expanduser())
    found = None if resize or (input_shape and len(input_shape) == 3) else image_headers([f for f, _ in files]).found
    size, channels = image_geometry(input_shape, resize, found)
    if fits_memory(len(files), size, channels, max_bytes):
        return load_folder_raw(spec, size, channels, crop)
    sample_shape = (channels, *size)
    shape = fit_shape(sample_shape, input_shape, spec.text)
    # the exported script's own lines (core/code/templates/read_folder.py: images), FolderSamples for ImageFiles
    parts = split_files(files, val_fraction, test_fraction, seed)
    train_set, val_set, test_set = (FolderSamples(part, size, channels, shape, crop) for part in parts)
    normalize_splits([train_set, val_set, test_set], normalize)
    mean, std = train_set.mean, train_set.std
    return Dataset(
        name=f"Image folder {spec.paths[0]}",
        spec=spec,
        input_shape=shape,
        num_classes=len(classes),
        class_names=classes,
        mean=mean,
        std=std,
        sample_shape=sample_shape,
        train_set=train_set,
        val_set=val_set,
        test_set=test_set,
        extra={"image_size": size, "channels": channels, "test_rows": lambda: [str(f) for f, _ in test_set.files]},
    )


def few_shot(spec: DataSpec, seed: int, size: tuple[int, int], channels: int, crop: tuple[int, int] | None) -> tuple:
    """A few-shot spec's samples, picked from the file list before any image is decoded (a big folder is read
    lazily, which a subset of tensors cannot be taken from): the very samples ``keep_classes`` keeps of the whole
    folder read in memory, as the exported script reads it."""
    # deferred: imports torch; the editor describes data without it
    import torch

    from core.datasets.folder_samples import FolderSamples
    from core.portable.subsets import keep_classes

    files, classes = list_images(Path(spec.paths[0]).expanduser())
    labels = torch.tensor([label for _, label in files], dtype=torch.int64)
    raw = (torch.arange(len(files)), labels, None, None, classes)
    try:
        kept, y, _, _, names = keep_classes(raw, list(spec.keep_classes), spec.per_class, seed, spec.text)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    images = FolderSamples([files[int(i)] for i in kept], size, channels, (channels, *size), crop)
    x = torch.stack([images.raw(i)[0] for i in range(len(images))]) if len(images) else torch.zeros(0)
    return x, y, None, None, names


def _load(spec: DataSpec, request: LoadRequest) -> tuple | Dataset:
    if spec.keep_classes or spec.per_class:
        shape, resize = request.input_shape, request.resize
        found = None
        if not resize and not (shape and len(shape) == 3):  # the preview: the folder's own size, as load_folder
            found = image_headers([f for f, _ in scan_images(Path(spec.paths[0]).expanduser())[0]]).found
        size, channels = image_geometry(shape, resize, found)
        return few_shot(spec, request.seed, size, channels, request.crop)
    return load_folder(
        spec,
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalize=request.normalize,
        input_shape=request.input_shape,
        resize=request.resize,
        crop=request.crop,
    )


def script_load(
    spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], stream: bool | None = None
) -> ScriptLoad:
    """The folder read whole into tensors (``read_folder.folder``), or, where the app would read it batch by batch
    (``streams``; ``stream`` says so instead when given), a Dataset per split, of which ``main`` makes DataLoaders
    (``read_folder.images``)."""
    # deferred: core.portable.images and .sources import torch; the editor describes data without it
    from core.portable import checks, image_stream, images

    resize = (settings.resize[0], settings.resize[1]) if settings.resize else None
    stream = streams(spec, shape, resize) if stream is None else stream
    found = None
    if stream and not resize and len(shape) != 3:  # the size the app reads it at (load_folder)
        found = image_headers([f for f, _ in scan_images(Path(spec.paths[0]).expanduser())[0]]).found
    size, channels = image_geometry(shape, resize, found)
    constants = [Constant("IMAGE_FOLDER", spec.paths[0], "one sub-folder per class")]
    helpers: list[Any] = [checks.check_class_folders, images.convert_image, images.fit_image, images.image_files]
    helpers.append(images.read_image)
    crop = weights_crop(settings, size)
    if crop:  # the pretrained weights' own rule: resize the short side, then the centre square
        helpers.insert(-2, images.crop_image)
        constants.append(Constant("RESIZE_CROP", crop, "(resize_size, crop_size) of the weights' transforms()"))
    values = {"SIZE": size, "CHANNELS": channels}
    flags = {"crop": bool(crop), "stream": stream}
    if not stream:
        return ScriptLoad([*helpers, images.load_image_folder], "read_folder.folder", constants, flags, values)
    helpers += [image_stream.ImageFiles, image_stream.split_files, image_stream.normalize_splits]
    return ScriptLoad(helpers, "read_folder.images", constants, flags, values)


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    return script_load(spec, settings, shape)  # pictures are never token ids


register(
    Source(
        kind="folder",
        names=("folder",),
        group="your files",
        help="folder:PATH",
        parse=lambda key, rest, text: DataSpec("folder", "folder", (file_path(key, rest, text),)),
        text=lambda spec: f"folder:{spec.paths[0]}",
        load=_load,
        script=_script,
        describe=describe_folder,
        ask="folder",
        sizes_itself=True,
        subsets_itself=True,
        rank=2,
    )
)
