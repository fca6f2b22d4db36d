"""Dataset spec strings, as typed on the command line or stored in a project.

``digits``, ``spirals``, ``spirals:samples=1000,noise=0.3,classes=4``, ``sequences``,
``sequences:length=30,vocab=50``, ``mnist``, ``npz:PATH``, ``idx:IMAGES,LABELS``, ``folder:PATH``,
``csv:PATH:LABELCOLUMN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.datasets.sequences import SEQUENCE_DEFAULTS, check_sequence_options
from core.errors import DataError

TABLES = ("digits", "iris", "wine", "breast_cancer")
POINTS = ("spirals", "moons", "circles", "xor", "blobs")
VISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR10"}
ALIASES = {"fashionmnist": "fashion_mnist", "cifar": "cifar10", "cifar_10": "cifar10", "breastcancer": "breast_cancer"}
POINT_DEFAULTS = {"samples": 600, "noise": 0.2, "classes": 3}
GENERATED: dict[str, dict] = {"points": POINT_DEFAULTS, "sequences": SEQUENCE_DEFAULTS}  # kind -> option defaults
FILE_KINDS = ("npz", "idx", "folder", "csv")
OFFLINE = (*TABLES, *POINTS, "sequences")  # every set that needs neither a download nor a file

HELP = (
    "built in: digits, iris, wine, breast_cancer, spirals, moons, circles, xor, blobs "
    "(e.g. spirals:samples=1000,noise=0.3), sequences (token ids, e.g. sequences:length=30,vocab=50); "
    "download: mnist, fashion_mnist, kmnist, cifar10; "
    "your files: npz:PATH, idx:IMAGES,LABELS, folder:PATH, csv:PATH:LABELCOLUMN"
)


@dataclass(frozen=True)
class DataSpec:
    """A parsed spec: the source kind and what it needs."""

    kind: str  # table | points | sequences | vision | npz | idx | folder | csv
    name: str  # digits, spirals, MNIST, ... or the file kind
    paths: tuple[str, ...] = ()
    label_column: str = ""
    options: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.kind in GENERATED:
            defaults = GENERATED[self.kind]
            opts = ",".join(f"{k}={v:g}" for k, v in self.options.items() if defaults.get(k) != v)
            return f"{self.name}:{opts}" if opts else self.name
        if self.kind == "csv":
            return f"csv:{self.paths[0]}:{self.label_column}"
        if self.kind in FILE_KINDS:
            return f"{self.kind}:{','.join(self.paths)}"
        return self.name.lower() if self.kind == "table" else _vision_key(self.name)


def _vision_key(torch_name: str) -> str:
    return next(key for key, value in VISION.items() if value == torch_name)


def parse_spec(spec: str) -> DataSpec:
    """Parse a spec string; DataError with the list of accepted forms when it makes no sense."""
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"No dataset given. Use one of: {HELP}")
    text = spec.strip()
    head, _, rest = text.partition(":")
    key = ALIASES.get(head.lower().replace("-", "_"), head.lower().replace("-", "_"))
    if key in TABLES and not rest:
        return DataSpec("table", key)
    if key in VISION and not rest:
        return DataSpec("vision", VISION[key])
    if key in POINTS:
        return DataSpec("points", key, options=_point_options(rest, text))
    if key == "sequences":
        options = _options(rest, text, SEQUENCE_DEFAULTS)
        problem = check_sequence_options(options, text)
        if problem:
            raise DataError(problem)
        return DataSpec("sequences", key, options={k: int(v) for k, v in options.items()})
    if key in FILE_KINDS:
        if not rest:
            raise DataError(f"The dataset spec {text!r} needs a path after '{key}:'. Use one of: {HELP}")
        if key == "idx":
            images, comma, labels = rest.rpartition(",")
            if not comma or not images or not labels:
                raise DataError(f"{text!r}: give the images file and the labels file as idx:IMAGES,LABELS")
            return DataSpec("idx", "idx", (images, labels))
        if key == "csv":
            path, colon, column = rest.rpartition(":")
            if not colon or not path or not column:
                raise DataError(f"{text!r}: name the label column as csv:PATH:LABELCOLUMN (e.g. csv:data.csv:label)")
            return DataSpec("csv", "csv", (path,), label_column=column)
        return DataSpec(key, key, (rest,))
    raise DataError(f"Unknown dataset {text!r}. Use one of: {HELP}")


def _options(rest: str, text: str, defaults: dict) -> dict[str, float]:
    options: dict[str, float] = dict(defaults)
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or name not in defaults:
            raise DataError(f"{text!r}: options are {', '.join(f'{k}=...' for k in defaults)}, not {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise DataError(f"{text!r}: {name} must be a number, not {value!r}") from None
        options[name] = number
    return options


def _point_options(rest: str, text: str) -> dict[str, float]:
    options = _options(rest, text, POINT_DEFAULTS)
    if not 8 <= options["samples"] <= 1_000_000 or options["samples"] != int(options["samples"]):
        raise DataError(f"{text!r}: samples must be a whole number from 8 to 1000000")
    if not 0 <= options["noise"] <= 10:
        raise DataError(f"{text!r}: noise must be from 0 to 10")
    if not 2 <= options["classes"] <= 20 or options["classes"] != int(options["classes"]):
        raise DataError(f"{text!r}: classes must be a whole number from 2 to 20")
    options["samples"], options["classes"] = int(options["samples"]), int(options["classes"])
    return options
