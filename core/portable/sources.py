"""Data loaders pasted verbatim into exported scripts (see core/portable/__init__.py).

Every loader returns ``(x, y, x_test, y_test, class_names)``: float32 inputs (int64
token ids for an Embedding), int64 class labels (float32 targets for regression),
and ``None`` for the test pair when the source has no test split. A bad file
raises ValueError with one line that names the file (and the row, column or
array) and says how to fix it; the exported script prints that line and stops.
"""

from __future__ import annotations

import gzip
import math
import zipfile
import zlib

import numpy as np
import torch

# IMAGE_SUFFIXES: core.code.script_data names it as sources.IMAGE_SUFFIXES
from core.portable.checks import IMAGE_SUFFIXES as IMAGE_SUFFIXES
from core.portable.checks import check_file

# More distinct classes than this is a slip (ids, prices or counts in the label column),
# and naming 10**9 classes would fill the memory: such labels are refused.
MAX_CLASSES = 10_000


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """Pixels as float32 in [0, 1] with a channel axis: (N, C, H, W)."""
    a = np.asarray(images)
    x = torch.tensor(a.astype(a.dtype.newbyteorder("="), copy=False))  # big-endian too
    scale = 255.0 if x.dtype == torch.uint8 else 1.0
    x = x.to(torch.float32) / scale
    if x.dim() == 3:  # (N, H, W): one grey channel
        x = x.unsqueeze(1)
    elif x.dim() == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        x = x.permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) -> (N, C, H, W)
    return x


def labels_to_tensor(labels: np.ndarray, where: str) -> torch.Tensor:
    """Whole-number class labels as int64; anything else is an error naming the file."""
    y = np.asarray(labels).reshape(-1)
    if y.dtype.kind not in "iuf":
        raise ValueError(
            f"{where}: the labels must be whole class numbers 0, 1, 2, ..., "
            f"found values of type {y.dtype}; store the class index of each sample"
        )
    if y.dtype.kind == "f":
        odd = np.nonzero(~np.isfinite(y) | (y != np.round(y)))[0]
        if len(odd):
            raise ValueError(
                f"{where}: the labels must be whole class numbers 0, 1, 2, ..., "
                f"found {y[odd[0]]} at index {odd[0]}; store the class index of "
                "each sample"
            )
    if len(y) and y.min() < 0:
        row = int(np.argmin(y))
        raise ValueError(
            f"{where}: label {int(y[row])} at index {row} is negative; "
            "class labels must be 0, 1, 2, ..."
        )
    if len(y) and y.max() >= MAX_CLASSES:
        row = int(np.argmax(y))
        raise ValueError(
            f"{where}: label {int(y[row])} at index {row} is too large: at most "
            f"{MAX_CLASSES} classes, numbered 0 to {MAX_CLASSES - 1}, can be "
            "trained; number the classes 0, 1, 2, ..."
        )
    return torch.as_tensor(y.astype(np.int64))


def tokens_to_tensor(values: np.ndarray, where: str) -> torch.Tensor:
    """Token ids for an Embedding as int64, unscaled: whole numbers from 0."""
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise ValueError(
            f"{where}: token ids must be whole numbers 0, 1, 2, ..., found values "
            f"of type {a.dtype}"
        )
    bad = (a < 0) | (a > 2**62)
    if a.dtype.kind == "f":
        bad |= ~np.isfinite(a) | (a != np.round(a))
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{where}: {a[tuple(first)]} in sample {first[0]} is not a token id; "
            "token ids are whole numbers 0, 1, 2, ... (the rows of the Embedding)"
        )
    return torch.as_tensor(a.astype(np.int64))


def check_finite(x: torch.Tensor, where: str) -> None:
    """NaN or infinity in the inputs makes every loss NaN: name the first sample."""
    if not x.is_floating_point() or not len(x):
        return
    bad = (~torch.isfinite(x.reshape(len(x), -1))).any(1).nonzero()
    if len(bad):
        index = int(bad[0])
        sample = x[index].reshape(-1)
        value = float(sample[~torch.isfinite(sample)][0])
        raise ValueError(
            f"{where}: sample {index} holds {value}, not a number the network can "
            "use; replace missing or infinite values (e.g. with np.nan_to_num)"
        )


def check_lengths(x: torch.Tensor, y: torch.Tensor, where: str) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{where}: there are {len(x)} samples but {len(y)} labels; "
            "every sample needs exactly one label"
        )


def class_count(*labels: torch.Tensor | None) -> int:
    return max(int(y.max()) + 1 for y in labels if y is not None and len(y))


def load_sklearn(name: str) -> tuple:
    """scikit-learn's bundled tables: iris, wine, breast_cancer."""
    if name == "digits":  # [app]
        return load_digits()
    from sklearn import datasets  # here: a second to import; only these tables need it

    bunch = getattr(datasets, f"load_{name}")()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    return x, y, None, None, [str(name) for name in bunch.target_names]


def load_digits() -> tuple:
    """scikit-learn's 8x8 handwritten digits, as images (N, 1, 8, 8) in [0, 1]."""
    from sklearn import datasets  # here: a second to import; only these tables need it

    bunch = datasets.load_digits()
    x = torch.tensor(bunch.images[:, None, :, :] / 16.0, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    return x, y, None, None, [str(name) for name in bunch.target_names]


def read_npz(path: str, wanted: tuple) -> tuple:
    """The names of the arrays in an .npz and the wanted ones, read in full; a
    damaged or foreign file is an error naming it (and the array)."""
    broken = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
    check_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if magic[:2] != b"PK" and magic != b"\x93NUMPY":  # neither a zip nor an .npy
        raise ValueError(
            f"{path}: not a NumPy .npz file (neither an archive of arrays nor a "
            "NumPy array); save the samples and labels with "
            "np.savez(path, x_train=..., y_train=...)"
        )
    try:
        archive = np.load(path, allow_pickle=False)  # never: a pickle can run code
    except broken as exc:  # a cut file, a pickle, text: not an archive of arrays
        raise ValueError(
            f"{path}: cannot read it as a NumPy .npz file ({type(exc).__name__}: "
            f"{exc}); the file is damaged or of another kind: save it with np.savez"
        ) from None
    if not hasattr(archive, "files"):
        raise ValueError(
            f"{path}: this is a single NumPy array (.npy), not an .npz archive; "
            "save the samples and labels together with "
            "np.savez(path, x_train=..., y_train=...)"
        )
    arrays = {}
    with archive:
        for key in [name for name in archive.files if name in wanted]:
            try:
                check_npz_member(archive, key, path)
                arrays[key] = archive[key]
            except broken as exc:  # a damaged array, or Python objects
                raise ValueError(
                    f"{path} ({key}): cannot read this array ({exc}); the file is "
                    "damaged or holds Python objects: save plain arrays of numbers"
                ) from None
        return sorted(archive.files), arrays


def check_npz_member(archive, key: str, path: str) -> None:
    """An array's header is checked before NumPy allocates what it announces: a
    damaged header asked for terabytes (read as "out of memory")."""
    name = f"{key}.npy" if f"{key}.npy" in archive.zip.namelist() else key
    info = archive.zip.getinfo(name)
    with archive.zip.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.hasobject:
        raise ValueError(
            f"{path} ({key}): cannot read this array: it holds Python objects, "
            "which are never loaded from a data file (they could run code); save "
            "plain arrays of numbers"
        )
    size = math.prod(shape) * dtype.itemsize
    if size > info.file_size:
        raise ValueError(
            f"{path} ({key}): the array's header announces shape {tuple(shape)} "
            f"({size} bytes) but the file holds {info.file_size} bytes for it; the "
            "file is damaged: save it again with np.savez"
        )


def npz_inputs(array: np.ndarray, where: str, tokens: bool) -> torch.Tensor:
    """The x arrays of an .npz: numbers only, as pixels/features or token ids."""
    if np.ndim(array) == 0:
        raise ValueError(
            f"{where}: a single value (a 0-d array), not a list of samples; store "
            "one sample per row, shape (samples, ...)"
        )
    if np.asarray(array).dtype.kind not in "biuf":
        raise ValueError(
            f"{where}: the samples must be numbers, found values of type "
            f"{array.dtype}; store numbers (encode text as token ids first)"
        )
    if tokens:
        return tokens_to_tensor(array, where)
    x = images_to_tensor(array)
    check_finite(x, where)
    return x


def make_sequences(
    samples: int, length: int, vocab: int, classes: int, seed: int
) -> tuple:
    """Generated token sequences: random tokens (classes + 1 to vocab - 1) with two
    or three different markers (tokens 1 to classes) at random places; the class is
    the marker that comes first, so a model must read the tokens in order."""
    rng = np.random.default_rng(seed)
    x = rng.integers(classes + 1, vocab, (samples, length))
    labels = np.arange(samples) % classes
    keys = rng.random((samples, classes))
    keys[np.arange(samples), labels] = -1.0  # the label's own marker comes first
    markers = keys.argsort(1) + 1
    count = np.minimum(rng.integers(2, 4, samples), classes)
    places = np.sort(rng.random((samples, length)).argsort(1)[:, :3], axis=1)
    for j in range(min(3, classes)):
        rows = np.nonzero(count > j)[0]
        x[rows, places[rows, j]] = markers[rows, j]
    tokens = torch.as_tensor(x, dtype=torch.int64)
    y = torch.as_tensor(labels, dtype=torch.int64)
    return tokens, y, None, None, [f"token {k + 1} first" for k in range(classes)]


def load_npz(path: str, tokens: bool = False) -> tuple:
    """A NumPy .npz in the Keras layout: x_train, y_train (+ x_test, y_test).
    With tokens the x arrays are int64 token ids, else float32 (pixels in [0, 1])."""
    found, arrays = read_npz(path, ("x_train", "y_train", "x_test", "y_test"))
    if "x_train" not in found or "y_train" not in found:
        raise ValueError(
            f"{path}: expected arrays named x_train and y_train (optionally "
            f"x_test and y_test), found {', '.join(found) or 'none'}; save it "
            "with np.savez(path, x_train=..., y_train=...)"
        )
    x = npz_inputs(arrays["x_train"], f"{path} (x_train)", tokens)
    y = labels_to_tensor(arrays["y_train"], f"{path} (y_train)")
    check_lengths(x, y, f"{path} (x_train, y_train)")
    if not len(y):
        raise ValueError(
            f"{path} (x_train, y_train): no samples, the arrays are empty; save "
            "the samples and their labels"
        )
    x_test = y_test = None
    if "x_test" in found and "y_test" in found:
        x_test = npz_inputs(arrays["x_test"], f"{path} (x_test)", tokens)
        y_test = labels_to_tensor(arrays["y_test"], f"{path} (y_test)")
        check_lengths(x_test, y_test, f"{path} (x_test, y_test)")
    names = [str(k) for k in range(class_count(y))]
    return x, y, x_test, y_test, names


def read_idx(path: str, limit: int = 1 << 30) -> np.ndarray:
    """One MNIST-format IDX file (images or labels), gzip-compressed or raw. The
    header is read first and checked, then at most the bytes it announces (up to
    ``limit``: 1 GiB, 4 GiB as float32; EMNIST, the largest IDX set, has 0.55 GiB):
    a small .gz of zeros can unpack to gigabytes."""
    opener = gzip.open if str(path).endswith(".gz") else open
    check_file(path)
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4)
            if len(head) < 4 or head[:3] != b"\x00\x00\x08" or not 1 <= head[3] <= 4:
                raise ValueError(
                    f"{path}: not an MNIST IDX file of bytes (wrong magic number); "
                    "use files like train-images-idx3-ubyte(.gz)"
                )
            dims = handle.read(4 * head[3])
            shape = tuple(
                int.from_bytes(dims[i : i + 4], "big")
                for i in range(0, len(dims) - 3, 4)
            )
            size = math.prod(shape)
            if len(shape) != head[3]:
                raise ValueError(
                    f"{path}: the header is cut short; the file is damaged"
                )
            if size > limit:
                raise ValueError(
                    f"{path}: the header announces shape {shape} ({size} bytes), "
                    f"more than the {limit} bytes an IDX file is read up to; the "
                    "file is damaged or holds no MNIST-like data"
                )
            data = bytearray()
            while len(data) < size:
                chunk = handle.read(min(1 << 24, size - len(data)))
                if not chunk:
                    break
                data += chunk
            more = handle.read(1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: could not read the file ({exc})") from None
    if len(data) != size or more:
        held = f"more than {size}" if more else str(len(data))
        raise ValueError(
            f"{path}: the header announces shape {shape} but the file holds "
            f"{held} bytes of data; the file is truncated or damaged"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def load_idx(images_path: str, labels_path: str) -> tuple:
    """A pair of MNIST IDX files: images and their labels."""
    x = images_to_tensor(read_idx(images_path))
    y = labels_to_tensor(read_idx(labels_path), labels_path)
    check_lengths(x, y, f"{images_path} and {labels_path}")
    return x, y, None, None, [str(k) for k in range(class_count(y))]


def load_torchvision(name: str, root: str) -> tuple:
    """MNIST, FashionMNIST, KMNIST or CIFAR10 through torchvision."""
    from torchvision import datasets  # here: seconds to import; only these need it

    kind = getattr(datasets, name)
    try:
        train = kind(root, train=True, download=True)
        test = kind(root, train=False, download=True)
    except RuntimeError:  # the download failed: an OSError, which callers tell in words
        where = root if name == "CIFAR10" else f"{root}/{name}/raw"
        fix = f"connect to the internet, or put its files in {where}"
        raise OSError(
            f"torchvision could not download {name} into {root}/: {fix}"
        ) from None
    x = images_to_tensor(np.asarray(train.data))
    x_test = images_to_tensor(np.asarray(test.data))
    y = torch.as_tensor(np.asarray(train.targets), dtype=torch.int64)
    y_test = torch.as_tensor(np.asarray(test.targets), dtype=torch.int64)
    return x, y, x_test, y_test, [str(c) for c in train.classes]
