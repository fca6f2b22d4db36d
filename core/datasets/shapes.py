"""The built-in shapes set: 32x32 colour images of circles, squares, triangles, crosses and rings, generated
offline from the seed, for convolutional networks (a small ResNet learns it in seconds on a CPU).

Each image is one filled shape of a random colour, size and position on a background of another random colour,
with Gaussian pixel noise; the class is the shape. ``make_shapes`` (``core.datasets.shapes_draw``, imported when
the set is loaded: it needs torch, the editor's checks do not) is pasted into the exported script as it is, so a
run and its script draw the same pixels from the same seed.
``shapes_info`` describes the set without drawing it, for the checks that compare a network with its dataset.
"""

from __future__ import annotations

from typing import Any

from core.datasets.info import DataInfo
from core.datasets.spec import DataSpec, LoadRequest, ScriptLoad, Source, options, options_text, register
from core.errors import DataError
from core.settings import TrainingSettings

SHAPE_NAMES = ("circle", "square", "triangle", "cross", "ring")
SHAPES_DEFAULTS: dict[str, int] = {"samples": 3000, "classes": len(SHAPE_NAMES)}
SHAPES_LIMITS: dict[str, tuple[int, int]] = {"samples": (10, 200_000), "classes": (2, len(SHAPE_NAMES))}
SHAPES_SIZE = 32


def __getattr__(name: str) -> Any:
    if name == "make_shapes":
        # deferred: core.datasets.shapes_draw imports torch; the editor describes data without it
        from core.datasets.shapes_draw import make_shapes

        return make_shapes
    raise AttributeError(name)


def shapes_options(options: dict[str, Any] | None = None) -> dict[str, int]:
    """The options with their defaults filled in."""
    return {**SHAPES_DEFAULTS, **{k: int(v) for k, v in (options or {}).items()}}


def shapes_info(options: dict[str, Any] | None = None) -> DataInfo:
    """Metadata of ``shapes`` (pass ``DataSpec.options`` for ``shapes:classes=...``), without drawing it."""
    return DataInfo("shapes", (3, SHAPES_SIZE, SHAPES_SIZE), shapes_options(options)["classes"])


def check_shapes_options(options: dict[str, float], text: str) -> str | None:
    """The first problem with the options, in words, or None."""
    for name, (low, high) in SHAPES_LIMITS.items():
        value = options[name]
        if value != int(value) or not low <= value <= high:
            return f"{text!r}: {name} must be a whole number from {low} to {high}"
    return None


def _parse(key: str, rest: str, text: str) -> DataSpec:
    opts = options(rest, text, SHAPES_DEFAULTS)
    problem = check_shapes_options(opts, text)
    if problem:
        raise DataError(problem)
    return DataSpec("shapes", key, options={k: int(v) for k, v in opts.items()})


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.datasets.shapes_draw imports torch; the editor describes data without it
    from core.datasets.shapes_draw import make_shapes

    o = shapes_options(spec.options)
    values = {"SAMPLES": o["samples"], "CLASS_COUNT": o["classes"]}
    return ScriptLoad([make_shapes], "read_builtin.shapes", values=values)


def _describe(spec: DataSpec) -> DataInfo:
    info = shapes_info(spec.options)
    return DataInfo(spec.text, info.sample_shape, info.num_classes)


def _load(spec: DataSpec, request: LoadRequest) -> tuple:
    # deferred: core.datasets.shapes_draw imports torch; the editor describes data without it
    from core.datasets.shapes_draw import make_shapes

    o = shapes_options(spec.options)
    return make_shapes(o["samples"], o["classes"], request.seed)


register(
    Source(
        kind="shapes",
        names=("shapes",),
        group="built in",
        help="shapes (32x32 colour shapes, e.g. shapes:samples=5000,classes=4)",
        parse=_parse,
        text=lambda spec: options_text(spec, SHAPES_DEFAULTS),
        load=_load,
        script=_script,
        describe=_describe,
        ask="options",
        rank=3,
    )
)
