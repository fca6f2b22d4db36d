"""The list of pretrained classifiers is read from torchvision's weights enums, never typed in."""

from __future__ import annotations

from pathlib import Path

import torchvision
from torchvision.models import ResNet18_Weights, get_model_weights, list_models

from core.pretrained.catalog import cache_path, find_entry, pretrained_classifiers


def test_every_torchvision_classifier_with_weights_is_listed():
    names = [e.name for e in pretrained_classifiers()]
    with_weights = [n for n in list_models(module=torchvision.models) if len(get_model_weights(n)) > 0]
    assert names == sorted(with_weights)
    assert "resnet18" in names and "fasterrcnn_resnet50_fpn" not in names  # classifiers only


def test_an_entry_carries_the_enum_s_own_figures():
    entry = find_entry("resnet18")
    weights = ResNet18_Weights.DEFAULT
    assert entry is not None
    assert entry.weights == f"ResNet18_Weights.{weights.name}" and entry.url == weights.url
    assert entry.acc1 == weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert entry.file_mb == weights.meta["_file_size"] and entry.num_params == weights.meta["num_params"]
    preset = weights.transforms()
    assert entry.input_shape == [3, *preset.crop_size, *preset.crop_size]
    assert [entry.resize_size] == preset.resize_size
    assert list(entry.mean) == preset.mean and list(entry.std) == preset.std
    assert entry.classes == len(weights.meta["categories"])
    assert entry.label().startswith(f"resnet18 — {entry.acc1:.1f} % ImageNet top-1, {entry.file_mb:.1f} MB")


def test_inception_s_larger_input_is_read_too():
    entry = find_entry("inception_v3")
    assert entry is not None and entry.crop_size == get_model_weights("inception_v3").DEFAULT.transforms().crop_size[0]
    assert entry.crop_size != 224


def test_the_cache_is_torch_home_s(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    url = ResNet18_Weights.DEFAULT.url
    assert cache_path(url) == tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[1]


def test_a_cached_file_names_its_torchvision_weights(tmp_path: Path, monkeypatch):
    from torchvision.models import ResNet50_Weights

    from core.hub_files import weights_for_file  # a floor below code and datasets, which ask it too

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert weights_for_file(cache_path(ResNet18_Weights.DEFAULT.url)) == "ResNet18_Weights.IMAGENET1K_V1"
    v2 = ResNet50_Weights.IMAGENET1K_V2  # not the first weights of its enum
    assert weights_for_file(tmp_path / cache_path(v2.url).name) == "ResNet50_Weights.IMAGENET1K_V2"
    assert weights_for_file(tmp_path / "mine.pt") is None
