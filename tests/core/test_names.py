import pytest
from torch import nn

from core.errors import InvalidNameError
from core.model.names import (
    MODULE_ATTRIBUTES,
    NameAllocator,
    check_name,
    clean_identifier,
    code_name,
    code_name_problem,
    module_level_names,
    name_problem,
)


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


@pytest.mark.parametrize(
    ("wanted", "taken", "given"),
    [
        ("BasicBlock", set(), "BasicBlock"),
        ("super", set(), "super_"),
        ("self", set(), "self_"),
        ("__class__", set(), "class_"),
        ("__builtins__", set(), "builtins"),
        ("nn", set(), "nn_"),
        ("main", {"main"}, "main_"),
        ("main", {"main", "main_"}, "main_2"),
        ("9lives", set(), "Block9lives"),
    ],
)
def test_code_name_never_shadows_what_the_file_uses(wanted, taken, given):
    assert code_name(wanted, taken) == given
    assert code_name_problem(given) is None and given not in taken


def test_module_level_names_reads_imports_classes_functions_and_constants():
    source = "import os\nfrom torch import nn as tnn\nimport torch.nn\nSEED, (A, B) = 1, (2, 3)\nX: int = 4\n"
    source += "def main():\n    inner = 1\n\n\nclass Net:\n    attr = 2\n"
    assert module_level_names(source) == {"os", "tnn", "torch", "SEED", "A", "B", "X", "main", "Net"}
