"""Issue 24, "specialised: only what this project uses is in the file" (review 5: R8, R9, R10). Each exported script
keeps only the lines its own data runs: no constant that nothing reads, no parameter that is never read, no branch
for a source the project does not use. The app runs the portable helpers whole; the 1e-6 tests between the app and
the script (tests/core/test_script.py) hold the specialised text to the same numbers."""

from __future__ import annotations

import ast

import torch

from core.code.script import generate_script
from core.code.script_data import source_lines
from core.portable import lean
from tests.core.train_fixtures import example, mlp_project, write_images


def _function(source: str, name: str) -> ast.FunctionDef:
    found = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert found, f"no function {name} in the script"
    return found[0]


def _parameters(source: str, name: str) -> list[str]:
    return [a.arg for a in _function(source, name).args.args]


def test_a_torchvision_script_splits_without_making_a_test_split() -> None:
    """R9: torchvision's sets come with their test split; the MNIST script's ``split`` made one when x_test is None
    and read TEST_FRACTION, neither of which can happen."""
    source = generate_script(example("mnist_cnn")).source
    assert "TEST_FRACTION" not in source and "x_test is None" not in source
    assert "test_fraction" not in _parameters(source, "split")


def test_the_split_without_a_test_split_is_the_full_split_for_such_data() -> None:
    full: dict = {}
    exec("import torch\n" + "\n".join(source_lines(lean.split)), full)
    given: dict = {}
    flags = {"given_test": True, "channels": False, "tokens": False, "fixed": False}
    exec("import torch\n" + "\n".join(source_lines(lean.split, flags)), given)
    x, y = torch.rand(50, 4, 4), torch.arange(50) % 3
    x_test, y_test = torch.rand(10, 4, 4), torch.arange(10) % 3
    a = full["split"](x, y, x_test, y_test, 0.2, 0.1, 3, (1, 4, 4), True)
    b = given["split"](x, y, x_test, y_test, 0.2, 3, (1, 4, 4), True)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_a_script_of_token_ids_has_no_normalize() -> None:
    """R8: ``NORMALIZE = True`` and ``prepare(..., normalize, ...)`` in the sequence scripts, where nothing is
    normalised (token ids): a constant that says True while nothing happens."""
    for name in ("sequence_lstm", "sequence_transformer"):
        source = generate_script(example(name)).source
        assert "NORMALIZE" not in source, name
        assert "normalize" not in _parameters(source, "prepare"), name
    digits = generate_script(example("digits_mlp")).source  # images are normalised: kept
    assert "NORMALIZE = True" in digits and "normalize" in _parameters(digits, "prepare")


def test_a_point_set_script_draws_only_its_own_set_with_named_numbers() -> None:
    """R9: ``make_points(kind, ...)`` kept the moons, circles, xor and blobs branches in the spirals script (over 20
    of its 37 lines never ran), called as ``make_points("spirals", 600, 0.2, 3, SEED)`` with bare numbers."""
    source = generate_script(example("spirals")).source
    for other in ("moons", "circles", "xor", "blobs", "kind", "make_points"):
        assert other not in source, other
    assert "SAMPLES = 600" in source and "NOISE = 0.2" in source and "CLASS_COUNT = 3" in source
    assert "raw = spiral_points(SAMPLES, NOISE, CLASS_COUNT, SEED)" in source
    moons = generate_script(mlp_project([2], 8, 2, dataset="moons")).source
    assert "raw = moon_points(SAMPLES, NOISE, SEED)" in moons and "spiral" not in moons and "CLASS_COUNT" not in moons


def test_a_scikit_learn_script_reads_only_its_own_table() -> None:
    """R9: ``load_sklearn(name)`` kept ``if name == "digits": ... else: ...`` in every table's script; the digits
    script now reads the digits, the iris script the table, each without the other's branch."""
    digits = generate_script(example("digits_mlp")).source
    assert "raw = load_digits()" in digits and "load_sklearn" not in digits and "bunch.data" not in digits
    iris = generate_script(mlp_project([4], 8, 3, dataset="iris")).source
    assert 'raw = load_sklearn("iris")' in iris and "digits" not in iris and "bunch.images" not in iris


def test_prepare_keeps_no_field_the_script_never_reads() -> None:
    """R9: ``data["mean"]``, ``data["std"]`` were stored in every script's ``prepare`` and read by nothing there
    (the app reads them)."""
    source = generate_script(example("digits_mlp")).source
    assert '"mean"' not in source and '"std"' not in source
    assert "mean, std = statistics(" in source  # normalised all the same


def test_a_general_torchvision_script_makes_no_test_split() -> None:
    """R9: torchvision's sets come with their test split; ``prepare``'s ``x_test is None`` lines never ran."""
    source = generate_script(mlp_project([3, 32, 32], 8, 2, dataset="cifar10:classes=0-1,per_class=3")).source
    assert "def prepare(" in source  # the general loader (a grey MNIST-family set takes the short one)
    assert "x_test is None" not in source and "TEST_FRACTION" not in source
    assert "test_fraction" not in _parameters(source, "prepare")


def test_an_image_folder_script_has_only_the_folder_path(tmp_path) -> None:
    """R10: the folder script carried ``fit_channels`` and ``GREY`` (load_image_folder already gives the Input's
    channels), the uint8/dimension checks of ``images_to_tensor`` meant for ``.npz`` arrays, and the same "no class
    sub-folders" message raised twice."""
    pictures = write_images(tmp_path / "pictures", {"a": 5, "b": 5})
    elsewhere = tmp_path / "not here"  # the folder of the computer the script runs on (resnet18's imagenet/train)
    for shape, folder in (([3, 6, 6], pictures), ([1, 6, 6], pictures), ([3, 6, 6], elsewhere), ([1, 6, 6], elsewhere)):
        source = generate_script(mlp_project(shape, 8, 2, dataset=f"folder:{folder}")).source
        assert "fit_channels" not in source and "GREY" not in source, shape
        assert "images_to_tensor" not in source and "newbyteorder" not in source, shape
        assert source.count("no class sub-folders") == 1, shape


def test_an_image_folder_script_without_a_crop_has_no_crop_lines(tmp_path) -> None:
    """R10: ``fit_image(..., crop=None)`` kept pretrained weights' resize-and-centre-crop lines in every folder
    script, where ``load_image_folder(IMAGE_FOLDER, (224, 224), 3)`` never passes a crop."""
    pictures = write_images(tmp_path / "pictures", {"a": 5, "b": 5})
    source = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}")).source
    assert "crop" not in source
    assert "return image.resize((size[1], size[0]))" in source


def test_statistics_takes_no_argument_it_never_reads() -> None:
    """R9: ``statistics(x_train, normalize)`` read ``normalize`` only for a pretrained network's fixed mean and std;
    every other script passed it and never read it."""
    source = generate_script(example("digits_mlp")).source
    assert _parameters(source, "statistics") == ["x_train"]
    assert 'mean, std = statistics(data["x_train"])' in source


def test_the_hand_made_batches_say_which_dataloader_they_stand_for() -> None:
    """R19: the batches of data already in memory are drawn by hand (``torch.randperm`` and fancy indexing,
    faster than a DataLoader over a TensorDataset); a reader who knows ``DataLoader(..., shuffle=True)`` is told
    that is what these lines do, in the comment the line had (no line more: the MNIST CNN is at 150)."""
    for name in ("mnist_cnn", "digits_mlp"):
        source = generate_script(example(name, device="auto")).source
        shuffle = next(line for line in source.splitlines() if "shuffle = torch.Generator()" in line)
        assert shuffle.endswith("# DataLoader(shuffle=True), by hand"), shuffle
        assert "import DataLoader" not in source  # said, not used
