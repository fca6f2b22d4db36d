"""Dataset spec strings and the registry of the sources they name.

``digits``, ``spirals``, ``spirals:samples=1000,noise=0.3,classes=4``, ``sequences``,
``sequences:length=30,vocab=50``, ``mnist``, ``npz:PATH``, ``idx:IMAGES,LABELS``, ``folder:PATH``,
``csv:PATH:LABELCOLUMN``.

Each kind of source is one ``Source`` entry, registered by the module that implements it
(``builtin``, ``vision``, ``files``, ``folder``, ``sequences``): how its spec is parsed and written back,
how it is loaded, how the exported script loads it, what it gives the network (``core.datasets.info``),
and how the Data panel offers it. Parsing, loading, the script and the panel read the registry, so adding
a source means adding one module (``core.datasets`` imports every module of the package) and its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import DataError

if TYPE_CHECKING:
    from core.datasets.info import DataInfo
    from core.settings import TrainingSettings

ALIASES = {"fashionmnist": "fashion_mnist", "cifar": "cifar10", "cifar_10": "cifar10", "breastcancer": "breast_cancer"}
GROUPS = ("built in", "download", "your files")  # the order HELP lists the sources in


@dataclass(frozen=True)
class DataSpec:
    """A parsed spec: the source kind and what it needs."""

    kind: str  # table | points | sequences | vision | npz | idx | folder | csv | tabular | text
    name: str  # digits, spirals, MNIST, ... or the file kind
    paths: tuple[str, ...] = ()
    label_column: str = ""
    options: dict[str, float] = field(default_factory=dict)
    column_kinds: tuple[tuple[str, str], ...] = ()  # tables: (column, number|category|text|ignore) chosen by the user

    @property
    def text(self) -> str:
        return SOURCES[self.kind].text(self)


@dataclass(frozen=True)
class LoadRequest:
    """What loading a source may depend on, from the training settings and the Input node."""

    seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    normalize: bool = True
    input_shape: tuple[int, ...] | None = None
    resize: tuple[int, int] | None = None
    data_dir: Any = None  # a Path, or None for the default download folder
    progress: Any = None  # core.datasets.base.Progress
    tokens: bool = False  # read the inputs as int64 token ids


@dataclass(frozen=True)
class ScriptLoad:
    """How the exported script loads a source: the portable helpers it pastes in, constants naming its files,
    and the lines of ``load_data`` before the split (``raw = ...``), or one call whose result may be resized."""

    helpers: list[Any]
    constants: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # complete: set ``raw`` themselves
    call: str = ""  # or an expression giving (x, y, x_test, y_test, class_names), resized when asked for


@dataclass(frozen=True)
class Source:
    """One kind of dataset source, everything the app needs to know about it in one place."""

    kind: str  # DataSpec.kind
    names: tuple[str, ...]  # the spec heads it answers to: digits, iris, ... or npz
    group: str  # "built in" | "download" | "your files": where HELP lists it
    help: str  # its part of HELP
    parse: Callable[[str, str, str], DataSpec]  # (name, text after the colon, whole spec) -> DataSpec
    text: Callable[[DataSpec], str]  # DataSpec -> spec string
    load: Callable[[DataSpec, LoadRequest], Any]  # the raw tuple (core.datasets.base.finish), or a ready Dataset
    script: Callable[[DataSpec, TrainingSettings, tuple[int, ...], bool], ScriptLoad]  # (spec, settings, shape, tokens)
    describe: Callable[[DataSpec], DataInfo | None]  # what it gives the network, without loading (info.py)
    ask: str = "spec"  # how the Data panel asks for it: "list" (pick a name), "file" (Open file...), or
    # "options" / "files" / "folder" / "csv" / "table" / "text" (a spec with options, two files, a folder, a CSV
    # path and its label column, a table, a text file or folder): typed as a spec, or chosen in the data wizard
    list_label: str = ""  # "list": the panel shows "NAME (list_label)"
    file_filter: str = ""  # "file": the open dialog's filter
    tokens: str = "never"  # int64 token ids: "never", "can" (when the Input takes int64) or "always"
    sizes_itself: bool = False  # decoded at the Input's size (image folders): no resize after loading
    title: Callable[[DataSpec], str] | None = None  # the name a loaded Dataset gets, when not the spec text
    after_load: Callable[[Any, DataSpec], None] | None = None  # adds what only this source knows to the Dataset
    rank: int = 0  # order within its group

    @property
    def user_files(self) -> bool:
        return self.group == "your files"


SOURCES: dict[str, Source] = {}  # kind -> Source, filled as the source modules are imported


def register(source: Source) -> Source:
    SOURCES[source.kind] = source
    return source


def sources() -> list[Source]:
    """Every source, in the order of HELP."""
    return sorted(SOURCES.values(), key=lambda s: (GROUPS.index(s.group), s.rank))


def help_text() -> str:
    parts = []
    for group in GROUPS:
        listed = ", ".join(s.help for s in sources() if s.group == group)
        if listed:
            parts.append(f"{group}: {listed}")
    return "; ".join(parts)


def __getattr__(name: str) -> Any:
    """HELP and the kind lists are read from the registry when asked for (after every source registered)."""
    if name == "HELP":
        return help_text()
    if name == "FILE_KINDS":
        return tuple(s.kind for s in sources() if s.user_files)
    if name == "OFFLINE":  # every set that needs neither a download nor a file
        return tuple(n for s in sources() if s.group == "built in" for n in s.names)
    raise AttributeError(name)


def unknown(text: str) -> DataError:
    return DataError(f"Unknown dataset {text!r}. Use one of: {help_text()}")


def parse_spec(spec: str) -> DataSpec:
    """Parse a spec string; DataError with the list of accepted forms when it makes no sense."""
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"No dataset given. Use one of: {help_text()}")
    text = spec.strip()
    head, _, rest = text.partition(":")
    key = ALIASES.get(head.lower().replace("-", "_"), head.lower().replace("-", "_"))
    for source in SOURCES.values():
        if key in source.names:
            return source.parse(key, rest, text)
    raise unknown(text)


def named(key: str, rest: str, text: str, kind: str, name: str | None = None) -> DataSpec:
    """The spec of a set named without options (digits, mnist): anything after a colon is a mistake."""
    if rest:
        raise unknown(text)
    return DataSpec(kind, name or key)


def options(rest: str, text: str, defaults: dict) -> dict[str, float]:
    """``name=value,...`` after the colon, over the defaults; DataError naming the accepted options."""
    result: dict[str, float] = dict(defaults)
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or name not in defaults:
            raise DataError(f"{text!r}: options are {', '.join(f'{k}=...' for k in defaults)}, not {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise DataError(f"{text!r}: {name} must be a number, not {value!r}") from None
        result[name] = number
    return result


def options_text(spec: DataSpec, defaults: dict) -> str:
    """A generated set's spec with only the options that differ from the defaults."""
    opts = ",".join(f"{k}={v:g}" for k, v in spec.options.items() if defaults.get(k) != v)
    return f"{spec.name}:{opts}" if opts else spec.name


def file_path(key: str, rest: str, text: str) -> str:
    if not rest:
        raise DataError(f"The dataset spec {text!r} needs a path after '{key}:'. Use one of: {help_text()}")
    return rest


def script_string(text: str) -> str:
    """A double-quoted Python literal for any text (paths), as ruff format writes it."""
    import json

    return json.dumps(text)
