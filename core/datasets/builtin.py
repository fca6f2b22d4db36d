"""Built-in datasets that need no download: scikit-learn's bundled tables and generated 2-D point sets."""

from __future__ import annotations

from core.datasets.spec import DataSpec
from core.portable.sources import load_sklearn, make_points

TITLES = {
    "digits": "Digits (8x8 handwritten, scikit-learn)",
    "iris": "Iris (scikit-learn)",
    "wine": "Wine (scikit-learn)",
    "breast_cancer": "Breast cancer (scikit-learn)",
}


def load_table(spec: DataSpec) -> tuple:
    """Digits come as (N, 1, 8, 8) images in [0, 1]; the other tables as (N, features)."""
    return load_sklearn(spec.name)


def load_points(spec: DataSpec, seed: int) -> tuple:
    """The point set is drawn from the seed, so a run and its exported script see the same points."""
    opts = spec.options
    return make_points(spec.name, int(opts["samples"]), float(opts["noise"]), int(opts["classes"]), seed)
