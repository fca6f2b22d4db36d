"""The augmentation preview drew its pictures inside ``torch.random.fork_rng`` after ``torch.manual_seed``: both
act on torch's one process-wide generator, so while a run trained in another thread, the preview reseeded and then
rewound the generator the run drew its dropout masks from, and the run's losses were not the CLI's or the exported
script's. It now draws from a private generator through core.own_random: the same pictures for a seed, and the
global generator untouched."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.portable import steps
from gui.data.augment import augmented
from tests.gui.test_augment_panel import dashboard as image_dashboard
from tests.gui.test_panel_transfer import dashboard, losses_of, repeated_in_a_thread, run_to_the_end, with_dropout


@pytest.fixture(autouse=True)
def _quiet_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def old_preview(data, seed: int) -> np.ndarray:
    """The preview as it was drawn: normalised, the global generator seeded inside fork_rng, un-normalised."""
    x = torch.as_tensor(np.asarray(data.preview(k=8).samples), dtype=torch.float32)
    mean, std = data.mean.cpu(), data.std.cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = steps.augment((x - mean) / std, True, 30.0, 2, 0.3, 0.4)
    return (out * std + mean).numpy()


def test_the_preview_shows_the_same_draws_as_before_and_leaves_the_global_generator_alone(qtbot) -> None:
    dash, _stack = image_dashboard(qtbot)
    data = dash.dataset
    assert data.mean.dim() == np.asarray(data.preview(k=8).samples).ndim  # normalised, then un-normalised
    for seed in (0, 1, 5):
        torch.manual_seed(1234)
        torch.rand(3)
        before = torch.random.get_rng_state()
        shown = augmented(data, True, 30.0, 2, seed, crop=0.3, jitter=0.4)
        assert torch.equal(torch.random.get_rng_state(), before)
        np.testing.assert_array_equal(shown, old_preview(data, seed))


@pytest.mark.slow  # two short runs: a few seconds
def test_a_run_made_while_the_augmentation_preview_draws_gives_the_same_losses(qtbot, tmp_path) -> None:
    images, _ = image_dashboard(qtbot)
    data = images.dataset
    dash, _stack = dashboard(qtbot, tmp_path)
    with_dropout(dash.project)  # the run draws from the global generator at every batch
    dash.project.training.epochs = 2

    quiet = losses_of(run_to_the_end(qtbot, dash))
    seeds = itertools.count()  # "Draw again" pressed over and over while the run trains: the next draw each time
    with repeated_in_a_thread(lambda: augmented(data, True, 30.0, 2, next(seeds), crop=0.3, jitter=0.4)) as draws:
        busy = losses_of(run_to_the_end(qtbot, dash))
    assert len(draws) > 1
    assert busy == quiet
