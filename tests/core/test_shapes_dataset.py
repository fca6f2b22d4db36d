"""The generated shapes set: seeded 32x32 colour images, described without drawing them, loaded the same way by
the app and by the exported script, and the small block ResNet example that learns it."""

from __future__ import annotations

import pytest
import torch

from core.cli import main
from core.code.script import generate_script
from core.datasets import load_dataset, load_for_settings, parse_spec
from core.datasets.info import dataset_info
from core.datasets.shapes import make_shapes
from core.errors import DataError
from core.files.project import load, save
from core.training import Trainer
from tests.core.train_fixtures import EXAMPLES, example


def test_shapes_are_seeded_balanced_rgb_images_in_0_1() -> None:
    x, y, x_test, y_test, names = make_shapes(100, 5, seed=3)
    assert x.shape == (100, 3, 32, 32) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.bincount(y).tolist() == [20] * 5
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert names == ["circle", "square", "triangle", "cross", "ring"] and x_test is None and y_test is None
    again, same_y, *_ = make_shapes(100, 5, seed=3)
    assert torch.equal(x, again) and torch.equal(y, same_y)
    assert not torch.equal(x, make_shapes(100, 5, seed=4)[0])
    assert make_shapes(30, 3, seed=0)[4] == ["circle", "square", "triangle"]


def test_shapes_options_and_metadata_match_the_loader() -> None:
    spec = parse_spec("shapes:samples=200,classes=4")
    assert spec.options == {"samples": 200, "classes": 4}
    info = dataset_info("shapes:samples=200,classes=4")
    data = load_dataset("shapes:samples=200,classes=4")
    assert info is not None and info.sample_shape == data.sample_shape == (3, 32, 32)
    assert info.num_classes == data.num_classes == 4 and sum(data.count(s) for s in ("train", "val", "test")) == 200
    for bad in ("shapes:classes=9", "shapes:samples=2", "shapes:classes=2.5"):
        with pytest.raises(DataError, match="shapes"):
            parse_spec(bad)


@pytest.mark.slow
def test_exported_script_loads_the_same_images_as_the_app() -> None:
    project = example("resnet_small", dataset="shapes:samples=300", seed=7)
    namespace: dict = {"__name__": "exported"}
    exec(compile(generate_script(project).source, "train.py", "exec"), namespace)
    script = dict(
        zip(("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"), namespace["load_data"](), strict=True)
    )
    app = load_for_settings(project.training, input_shape=(3, 32, 32))
    for part in ("train", "val", "test"):
        assert torch.equal(script[f"x_{part}"], getattr(app, f"x_{part}")), part
        assert torch.equal(script[f"y_{part}"], getattr(app, f"y_{part}")), part


def test_check_compares_the_example_with_the_shapes_classes(tmp_path, capsys) -> None:
    path = EXAMPLES / "resnet_small.json"
    assert main(["check", str(path)]) == 0
    assert "Data: shapes (samples [3, 32, 32], float32, 5 classes)" in capsys.readouterr().out
    project = load(path)
    fc = next(n for n in project.graph.nodes if n.name == "fc")
    fc.params["out_features"] = 3
    save(project, tmp_path / "three.json")
    assert main(["check", str(tmp_path / "three.json")]) == 1
    err = capsys.readouterr().err
    assert "fc" in err and "5" in err and "Traceback" not in err


@pytest.mark.slow
def test_small_resnet_example_learns_shapes_in_one_epoch() -> None:
    """Six epochs reach ~100% test accuracy in ~20 s on 2 cores; one epoch (~3 s) is well above chance (20%)."""
    result = Trainer(example("resnet_small", epochs=1, scheduler="none"), save=False).run()
    assert result.status == "finished", result.message
    assert result.history[-1]["accuracy"] > 0.45, result.history[-1]
