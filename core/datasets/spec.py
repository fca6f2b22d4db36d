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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from core.errors import DataError

if TYPE_CHECKING:
    from core.datasets.info import DataInfo
    from core.settings import Normalization, TrainingSettings

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
    keep_classes: tuple[int, ...] = ()  # few-shot: only these classes (renumbered 0, 1, ...); () keeps all
    per_class: int = 0  # few-shot: this many samples of each class, drawn with the seed; 0 keeps all

    @property
    def text(self) -> str:
        return SOURCES[self.kind].text(self) + subset_text(self)


@dataclass(frozen=True)
class LoadRequest:
    """What loading a source may depend on, from the training settings and the Input node."""

    seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    normalize: Normalization = True  # core.settings.TrainingSettings.normalization()
    input_shape: tuple[int, ...] | None = None
    resize: tuple[int, int] | None = None
    crop: tuple[int, int] | None = None  # (resize_size, crop_size): pretrained weights' own rule (fit.weights_crop)
    data_dir: Any = None  # a Path, or None for the default download folder
    progress: Any = None  # core.datasets.base.Progress
    tokens: bool = False  # read the inputs as int64 token ids


@dataclass(frozen=True)
class Constant:
    """A constant at the top of the exported script that names what a source reads (``DATA_FILE``): ``value`` is
    written as a Python literal, never pasted as text (``spread``: a dict, one item a line)."""

    name: str
    value: Any
    comment: str = ""
    spread: bool = False


@dataclass(frozen=True)
class ScriptLoad:
    """How the exported script loads a source: the portable helpers it pastes in, the constants naming its files,
    and which function of the templates ``core/code/templates/read_*.py`` reads it (``read``: "module.function"),
    with the tags ``flags`` keep and ``values`` (written as Python literals) in place of its placeholders. The
    function returns the five arrays; ``resizes``: they are images, resized (or cropped) when the settings ask."""

    helpers: list[Any]
    read: str
    constants: list[Constant] = field(default_factory=list)
    flags: dict[str, bool] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    resizes: bool = False


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
    subsets_itself: bool = False  # applies a few-shot spec's keep_classes itself (a folder decodes only those)
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
    text, classes, per_class = split_subset(spec.strip())
    head, _, rest = text.partition(":")
    key = ALIASES.get(head.lower().replace("-", "_"), head.lower().replace("-", "_"))
    for source in SOURCES.values():
        if key in source.names:
            parsed = source.parse(key, rest, text)
            return replace(parsed, keep_classes=classes, per_class=per_class) if classes or per_class else parsed
    raise unknown(text)


# --- few-shot subsets: SPEC:classes=5-9,per_class=20 --------------------------------------------------------------
SUBSET_KEYS = ("classes", "per_class")


def _class_list(value: str, text: str) -> tuple[int, ...]:
    """``5-9``, ``1+3+7`` or ``0-2+5``: class numbers, sorted."""
    numbers: set[int] = set()
    for part in filter(None, value.split("+")):
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise DataError(f"{text!r}: classes are class numbers like classes=5-9 or classes=1+3+7, not {value!r}")
        first, last = int(low), int(high) if dash else int(low)
        if last < first or last - first > 100_000:
            raise DataError(f"{text!r}: classes={value} is an empty or too long range")
        numbers.update(range(first, last + 1))
    if not numbers:
        raise DataError(f"{text!r}: classes= needs class numbers, e.g. classes=5-9")
    return tuple(sorted(numbers))


def split_subset(text: str) -> tuple[str, tuple[int, ...], int]:
    """The spec without its trailing ``classes=...``/``per_class=N`` items, and their values."""
    head, colon, tail = text.rpartition(":")
    if not colon or not head:
        return text, (), 0
    items = [item.strip() for item in tail.split(",") if item.strip()]
    # a generated set's own options have a classes= too (spirals:classes=4): there, a few-shot classes= comes in a
    # segment of its own (spirals:samples=900:classes=0-1, or spirals::classes=0-1 after the default options)
    keys = ("per_class",) if text.count(":") < 2 and _owns_classes(text.partition(":")[0]) else SUBSET_KEYS
    subset = [item for item in items if item.partition("=")[0].strip() in keys]
    if not subset:
        return text, (), 0
    rest = [item for item in items if item not in subset]
    classes: tuple[int, ...] = ()
    per_class = 0
    for item in subset:
        name, _, value = (part.strip() for part in item.partition("="))
        if name == "classes":
            classes = _class_list(value, text)
        elif not value.isdigit() or not 1 <= int(value) <= 1_000_000:
            raise DataError(f"{text!r}: per_class must be a whole number of samples from 1, not {value!r}")
        else:
            per_class = int(value)
    return (f"{head}:{','.join(rest)}" if rest else head), classes, per_class


def _owns_classes(head: str) -> bool:
    """Whether the source named ``head`` reads ``head:classes=2`` as its own option (the generated sets)."""
    key = ALIASES.get(head.lower().replace("-", "_"), head.lower().replace("-", "_"))
    for source in SOURCES.values():
        if key in source.names:
            try:
                source.parse(key, "classes=2", f"{head}:classes=2")
            except DataError:
                return False
            return True
    return False


def _ranges(classes: tuple[int, ...]) -> str:
    parts, start = [], 0
    for i in range(1, len(classes) + 1):
        if i == len(classes) or classes[i] != classes[i - 1] + 1:
            first, last = classes[start], classes[i - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = i
    return "+".join(parts)


def subset_text(spec: DataSpec) -> str:
    """``:classes=5-9,per_class=20`` for a few-shot spec, "" otherwise."""
    items = [f"classes={_ranges(spec.keep_classes)}"] if spec.keep_classes else []
    items += [f"per_class={spec.per_class}"] if spec.per_class else []
    if not items:
        return ""
    base = SOURCES[spec.kind].text(spec)
    own = bool(spec.keep_classes) and ":" not in base and _owns_classes(base)
    return f"{':' if own else ''}:{','.join(items)}"


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


def question_mark_hint(item: str, text: str) -> str:
    """For an option after '?' that is no ``key=value``: most likely the path itself holds a '?' (``q?mark.csv``),
    which a spec reads whole when it ends with '?' (what Data > Open writes)."""
    if "=" in item or text.endswith("?"):
        return ""
    return f"; a path with '?' in it: end the spec with '?' ({text}?)"
