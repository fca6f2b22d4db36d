"""Shared test set-up: Qt always offscreen, Hypothesis profiles sized for CI."""

import gc
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True
)
settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "resources" / "examples"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.hookimpl(hookwrapper=True)
def pytest_collection():
    """Collecting imports torch, torchvision, scikit-learn and Qt: millions of objects that live to the end, which
    Python's cyclic collector went through again at each full collection (about 20 in the quick tier, 1-3 s each on
    a busy machine, a tenth of its time). No cyclic collection while the test modules import, then those objects
    are frozen out of later collections; what the tests create is collected as before."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
