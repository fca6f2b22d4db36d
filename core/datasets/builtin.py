"""Built-in datasets that need no download: scikit-learn's bundled tables and generated 2-D point sets."""

from __future__ import annotations

from core.datasets.info import BUILTIN, DataInfo, named_as
from core.datasets.spec import (
    Constant,
    DataSpec,
    LoadRequest,
    ScriptLoad,
    Source,
    named,
    options,
    options_text,
    register,
)
from core.errors import DataError
from core.settings import TrainingSettings

TABLES = ("digits", "iris", "wine", "breast_cancer")
POINTS = ("spirals", "moons", "circles", "xor", "blobs")
POINT_DEFAULTS = {"samples": 600, "noise": 0.2, "classes": 3}
TITLES = {
    "digits": "Digits (8x8 handwritten, scikit-learn)",
    "iris": "Iris (scikit-learn)",
    "wine": "Wine (scikit-learn)",
    "breast_cancer": "Breast cancer (scikit-learn)",
}


def load_table(spec: DataSpec, request: LoadRequest | None = None) -> tuple:
    """Digits come as (N, 1, 8, 8) images in [0, 1]; the other tables as (N, features)."""
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable.sources import load_sklearn

    return load_sklearn(spec.name)


def _table_script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    # digits are images: the script resizes them as the app does (training.resize)
    if spec.name == "digits":
        return ScriptLoad([sources.load_digits], "read_builtin.digits", resizes=True)
    return ScriptLoad([sources.load_sklearn], "read_builtin.sklearn", values={"SET_NAME": spec.name})


register(
    Source(
        kind="table",
        names=TABLES,
        group="built in",
        help=", ".join(TABLES),
        parse=lambda key, rest, text: named(key, rest, text, "table"),
        text=lambda spec: spec.name.lower(),
        load=load_table,
        script=_table_script,
        describe=lambda spec: named_as(BUILTIN.get(spec.name), spec),
        ask="list",
        list_label="built in",
        title=lambda spec: TITLES[spec.name],
        rank=0,
    )
)


def _point_options(key: str, rest: str, text: str) -> DataSpec:
    opts = options(rest, text, POINT_DEFAULTS)
    if not 8 <= opts["samples"] <= 1_000_000 or opts["samples"] != int(opts["samples"]):
        raise DataError(f"{text!r}: samples must be a whole number from 8 to 1000000")
    if not 0 <= opts["noise"] <= 10:
        raise DataError(f"{text!r}: noise must be from 0 to 10")
    if not 2 <= opts["classes"] <= 20 or opts["classes"] != int(opts["classes"]):
        raise DataError(f"{text!r}: classes must be a whole number from 2 to 20")
    opts["samples"], opts["classes"] = int(opts["samples"]), int(opts["classes"])
    return DataSpec("points", key, options=opts)


def load_points(spec: DataSpec, request: LoadRequest) -> tuple:
    """The point set is drawn from the seed, so a run and its exported script see the same points."""
    # deferred: core.portable.points imports torch; the editor describes data without it
    from core.portable.points import make_points

    opts = spec.options
    return make_points(spec.name, int(opts["samples"]), float(opts["noise"]), int(opts["classes"]), request.seed)


def _points_script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.points imports torch; the editor describes data without it
    from core.portable import points

    o = spec.options
    constants = [
        Constant("SAMPLES", o["samples"], "points drawn"),
        Constant("NOISE", float(o["noise"]), "the spread of the noise"),
    ]
    if spec.name in ("spirals", "blobs"):  # the others have two classes
        constants.append(Constant("CLASS_COUNT", o["classes"], "one class a set of points"))
    make = {"spirals": points.spiral_points, "moons": points.moon_points, "circles": points.circle_points}
    make |= {"xor": points.xor_points, "blobs": points.blob_points}
    return ScriptLoad([make[spec.name], points.point_arrays], f"read_builtin.{spec.name}", constants)


def _describe_points(spec: DataSpec) -> DataInfo:
    classes = 2 if spec.name in ("moons", "circles", "xor") else int(spec.options.get("classes", 3))
    return DataInfo(spec.text, (2,), classes)


register(
    Source(
        kind="points",
        names=POINTS,
        group="built in",
        help=", ".join(POINTS) + " (e.g. spirals:samples=1000,noise=0.3)",
        parse=_point_options,
        text=lambda spec: options_text(spec, POINT_DEFAULTS),
        load=load_points,
        script=_points_script,
        describe=_describe_points,
        ask="list",
        list_label="built in",
        rank=1,
    )
)
