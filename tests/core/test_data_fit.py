"""The data fits a network that starts from weights (issue 27): the task check says how in words, the settings
resize the images, repeat grey in three channels and normalise with the weights' own mean and std, and the app's
loader and the exported script's give the same tensors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from core.code.script import generate_script
from core.datasets import load_for_settings
from core.datasets.fit import data_fit, fit_changes, weights_statistics
from core.datasets.info import dataset_info
from core.errors import ParameterError
from core.model.analysis import analyze
from core.portable.steps import prepare
from core.settings import TrainingSettings
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def _pretrained_mlp(**training) -> object:
    """A network whose Input [3, 16, 16] is fixed by its starting weights (initial_weights names a file)."""
    return mlp_project([3, 16, 16], 8, 10, dataset="digits", initial_weights="backbone.pt", **training)


def test_settings_keep_the_weights_mean_and_std_and_refuse_half_of_them() -> None:
    s = TrainingSettings.from_dict({"mean": IMAGENET[0], "std": IMAGENET[1]})
    assert s.normalization() == IMAGENET
    assert TrainingSettings.from_dict(s.to_dict()) == s
    assert TrainingSettings().normalization() is True  # the data's own statistics, as before
    assert TrainingSettings.from_dict({**s.to_dict(), "normalize": False}).normalization() is False
    with pytest.raises(ParameterError, match="3 means but 1 stds"):
        TrainingSettings.from_dict({"mean": IMAGENET[0], "std": [0.2]})
    with pytest.raises(ParameterError, match="std"):
        TrainingSettings.from_dict({"mean": [0.5], "std": [0.0]})


def test_prepare_repeats_grey_for_an_rgb_input_and_uses_the_given_mean_and_std() -> None:
    x = torch.rand(20, 1, 4, 4)
    raw = (x, torch.arange(20) % 2, None, None, ["a", "b"])
    data = prepare(raw, 0.0, 0.0, 0, IMAGENET, (3, 4, 4))
    assert data["x_train"].shape == (20, 3, 4, 4)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(0))
    for c in range(3):  # each channel: the grey, standardised with ImageNet's numbers, not the data's
        expected = (x[order, 0] - IMAGENET[0][c]) / IMAGENET[1][c]
        torch.testing.assert_close(data["x_train"][:, c], expected)


def test_the_check_says_how_the_data_fits_a_network_that_starts_from_weights() -> None:
    project = _pretrained_mlp()
    errors = [p.message for p in analyze(project.graph, project.training).errors]
    assert any(
        "This network expects 3x16x16 images; your images (digits) are 1x8x8: resize to 16x16 and convert to RGB" in e
        for e in errors
    ), errors
    fit = fit_changes(dataset_info("digits"), (3, 16, 16), project.training)
    assert fit is not None and fit.changes == {"resize": [16, 16]}  # backbone.pt is no torchvision download
    project.training = TrainingSettings.from_dict({**project.training.to_dict(), **fit.changes})
    assert analyze(project.graph, project.training).ok
    assert data_fit(dataset_info("digits"), (3, 16, 16), project.training) is None


def test_a_network_without_starting_weights_keeps_the_input_shape_advice() -> None:
    project = mlp_project([3, 16, 16], 8, 10, dataset="digits")
    errors = [p.message for p in analyze(project.graph, project.training).errors]
    assert any("set the Input shape to [1, 8, 8]" in e for e in errors), errors


def test_the_app_and_the_exported_script_fit_the_data_alike() -> None:
    project = _pretrained_mlp(resize=[16, 16], mean=IMAGENET[0], std=IMAGENET[1])
    data = load_for_settings(project.training, (3, 16, 16))
    assert data.x_train.shape[1:] == (3, 16, 16)
    assert torch.equal(data.mean.flatten(), torch.tensor(IMAGENET[0]))
    module, _ = run_as_module(generate_script(project).source)
    splits = module.load_data()
    for mine, theirs in zip(splits, (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)):
        assert torch.equal(mine, theirs)
    grey = data.x_train * torch.tensor(IMAGENET[1])[:, None, None] + torch.tensor(IMAGENET[0])[:, None, None]
    torch.testing.assert_close(grey[:, 0], grey[:, 2])  # the same grey in every channel
    assert F.mse_loss(grey, grey.clamp(0, 16)) == 0  # digits' own 0..16 scale, standardised by ImageNet's numbers


def test_the_weights_statistics_come_from_torchvision_for_its_downloads(tmp_path: Path) -> None:
    from core.pretrained.catalog import cache_path, weights_member

    url = weights_member("shufflenet_v2_x0_5").url
    assert weights_statistics(str(tmp_path / cache_path(url).name)) == IMAGENET
    assert weights_statistics(str(tmp_path / "mine.pt")) is None


@pytest.mark.slow  # imports a torchvision network (seconds)
def test_a_fresh_pretrained_project_passes_check_once_the_data_fits(tmp_path: Path, capsys) -> None:
    """shufflenet_v2_x0_5 as New from Pretrained Network makes it (seeded weights under torchvision's own file
    name, nothing downloaded): grey 28x28 photos in a folder pass at once (decoded at the Input's size and
    channels) and get ImageNet's mean and std; digits (1x8x8) fail in words until the fit is applied."""
    from PIL import Image

    from core.cli import main
    from core.files.project import save
    from core.pretrained.catalog import cache_path, weights_member
    from core.pretrained.fetch import Fetched
    from core.pretrained.project import pretrained_project

    name = "shufflenet_v2_x0_5"
    torch.manual_seed(0)
    state = torchvision_model(name).state_dict()
    fetched = Fetched(state, tmp_path / cache_path(weights_member(name).url).name, cached=True)
    torch.save(state, fetched.path)  # in torch's cache as after a download: check reads it as train does
    project = pretrained_project(name, fetched).project
    for label in ("cat", "dog"):
        (tmp_path / "pics" / label).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (28, 28), 40 * i).save(tmp_path / "pics" / label / f"{i}.png")
    path = tmp_path / "net.json"

    def check(dataset: str, **changes) -> int:
        values = {**project.training.to_dict(), "dataset": dataset, **changes}
        project.training = TrainingSettings.from_dict(values)
        save(project, path)
        return main(["check", str(path)])

    assert check(f"folder:{tmp_path / 'pics'}") == 0
    fit = fit_changes(dataset_info(f"folder:{tmp_path / 'pics'}"), (3, 224, 224), project.training)
    assert fit is not None and fit.changes == {"mean": IMAGENET[0], "std": IMAGENET[1]}
    capsys.readouterr()
    assert check("digits") == 1
    assert "your images (digits) are 1x8x8: resize to 224x224 and convert to RGB" in capsys.readouterr().err
    fit = fit_changes(dataset_info("digits"), (3, 224, 224), project.training)
    assert fit is not None and fit.changes == {"resize": [224, 224], "mean": IMAGENET[0], "std": IMAGENET[1]}
    assert check("digits", **fit.changes) == 0


def torchvision_model(name: str) -> torch.nn.Module:
    import torchvision

    return torchvision.models.get_model(name, weights=None)


def test_a_folder_too_big_for_memory_is_normalised_with_the_weights_statistics_too(tmp_path: Path) -> None:
    """The lazy folder (read image by image) follows prepare's rule: the given mean and std, not sampled ones."""
    from PIL import Image

    from core.datasets.folder import load_folder
    from core.datasets.spec import parse_spec

    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (6, 6), (30 * i, 60, 90)).save(tmp_path / label / f"{i}.png")
    data = load_folder(
        parse_spec(f"folder:{tmp_path}"),
        seed=0,
        val_fraction=0.0,
        test_fraction=0.0,
        normalize=IMAGENET,
        input_shape=(3, 6, 6),
        resize=None,
        max_bytes=0,  # read lazily
    )
    x, _ = data.train_set[0]
    raw, _ = data.train_set.raw(0)
    expected = (raw - torch.tensor(IMAGENET[0])[:, None, None]) / torch.tensor(IMAGENET[1])[:, None, None]
    torch.testing.assert_close(x, expected)


def test_the_keras_script_normalises_with_the_weights_statistics() -> None:
    from core.code.keras_script import generate_keras_script

    source = generate_keras_script(_pretrained_mlp(resize=[16, 16], mean=IMAGENET[0], std=IMAGENET[1]))
    assert f"NORMALIZE = {IMAGENET!r}" in source
