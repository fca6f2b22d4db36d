import pytest
from torch import nn

from core.code.names import MODULE_ATTRIBUTES, NameAllocator, check_name, clean_identifier, name_problem
from core.errors import InvalidNameError


def test_module_attribute_list_covers_torch():
    public = {name for name in dir(nn.Module) if not name.startswith("_")}
    assert public <= MODULE_ATTRIBUTES, sorted(public - MODULE_ATTRIBUTES)


@pytest.mark.parametrize("name", ["conv1", "fc_out", "encoder2", "x"])
def test_good_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1conv",
        "fc-1",
        "class",
        "list",
        "print",
        "to",
        "eval",
        "float",
        "training",
        "forward",
        "self",
        "torch",
        "_hidden",
        "x y",
        "a" * 100,
        "naïve",
        "x);import os#",
        None,
        3,
    ],
)
def test_bad_names_are_refused_with_a_reason(name):
    assert name_problem(name)
    with pytest.raises(InvalidNameError, match="Cannot use"):
        check_name(name)


def test_clean_identifier():
    assert clean_identifier("Conv 2D #1") == "conv_2d_1"
    assert clean_identifier("BatchNorm") == "batch_norm"
    assert clean_identifier("3rd layer") == "layer_3rd_layer"
    assert clean_identifier("!!!") == "layer"


def test_allocator_is_unique_and_never_shadows():
    names = NameAllocator()
    assert names.allocate("linear") == "linear"
    assert names.allocate("linear") == "linear_1"
    assert names.allocate("linear") == "linear_2"
    assert names.allocate("input") == "input_"
    assert names.allocate("list") == "list_"
    assert names.allocate("class") == "class_"
    assert names.allocate("eval") == "eval_"
    assert names.allocate("Conv 2D #1") == "conv_2d_1"
    for got in ("input_", "list_", "class_", "eval_"):
        assert name_problem(got) is None
