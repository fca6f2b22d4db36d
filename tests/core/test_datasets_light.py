"""The example's data preview is drawn without torch or scikit-learn (``core.datasets.light``): it must show the
very samples, labels and split sizes the full loader (torch's split, scikit-learn's digits) gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.datasets import load_for_settings
from core.datasets.light import light_preview, load_digits_arrays, torch_randperm
from core.settings import TrainingSettings


def test_the_digits_read_with_numpy_equal_scikit_learns() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, labels = load_digits_arrays()
    np.testing.assert_array_equal(images, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 + 7, 2**32 + 3, 2**40])
@pytest.mark.parametrize("n", [1, 2, 3, 10, 1797])
def test_the_numpy_randperm_equals_torchs(n: int, seed: int) -> None:
    expected = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    np.testing.assert_array_equal(torch_randperm(n, seed), expected)


@pytest.mark.parametrize(("seed", "val", "test"), [(0, 0.2, 0.1), (7, 0.1, 0.25), (123, 0.0, 0.0)])
def test_the_light_preview_equals_the_full_datasets(seed: int, val: float, test: float) -> None:
    settings = TrainingSettings.from_dict(
        {"dataset": "digits", "seed": seed, "val_fraction": val, "test_fraction": test}
    )
    light = light_preview(settings)
    full = load_for_settings(settings, None)
    assert light is not None
    ours, theirs = light.preview(16), full.preview(16)
    np.testing.assert_allclose(ours.samples, theirs.samples, atol=1e-6)
    assert ours.labels == theirs.labels and ours.counts == theirs.counts
    assert ours.class_names == theirs.class_names and tuple(ours.input_shape) == tuple(theirs.input_shape)
    assert (light.name, light.num_classes, light.sample_shape) == (full.name, full.num_classes, full.sample_shape)


def test_other_data_or_a_resize_gets_the_full_loader() -> None:
    assert light_preview(TrainingSettings.from_dict({"dataset": "iris"})) is None
    assert light_preview(TrainingSettings.from_dict({"dataset": "digits", "resize": [16, 16]})) is None
