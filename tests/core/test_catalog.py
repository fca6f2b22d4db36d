import inspect

import pytest
from torch import nn

from core.errors import ParameterError, UnknownLayerError
from core.model.catalog import CATEGORIES, LAYERS, by_category, get_spec

REQUIRED = [
    "Input",
    "Linear",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "GroupNorm",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Unflatten",
    "Reshape",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Embedding",
    "LSTM",
    "GRU",
    "RNN",
    "Upsample",
    "Identity",
    "Add",
    "Concat",
    "Multiply",
    "Output",
]


DOC_SITES = ("https://pytorch.org/docs/", "https://pytorch.org/vision/")  # torchvision: StochasticDepth


def test_catalog_has_every_required_layer_and_at_least_38():
    assert set(REQUIRED) <= set(LAYERS)
    assert len(LAYERS) >= 38


@pytest.mark.parametrize("layer_id", sorted(LAYERS))
def test_spec_is_complete(layer_id):
    spec = LAYERS[layer_id]
    assert spec.category in CATEGORIES
    assert spec.help and spec.display and spec.doc_url.startswith(DOC_SITES)
    for param in spec.params:
        assert param.help
        if not param.auto:
            assert param.validate(param.default) == param.default


# Layers whose generated class (``LayerSpec.helper``) passes its keywords on to a torch class: that class's defaults.
HELPER_DEFAULTS = {"TransformerEncoder": nn.TransformerEncoderLayer}


def _torch_default(value):
    """torch writes some defaults as functions (activation=F.relu); the catalog stores their name."""
    return getattr(value, "__name__", value)


@pytest.mark.parametrize("layer_id", sorted(k for k, s in LAYERS.items() if s.torch_class))
def test_defaults_match_torch(layer_id):
    """A keyword left at our default is not emitted, so our default must be torch's default."""
    spec = LAYERS[layer_id]
    if spec.helper:
        torch_cls = HELPER_DEFAULTS.get(layer_id)
        namespace: dict = {}
        exec(compile("import torch\nfrom torch import nn\n" + spec.helper, layer_id, "exec"), namespace)
        helper_signature = inspect.signature(namespace[spec.torch_class].__init__)
        if torch_cls is None:  # the helper's own arguments are all it takes
            assert [p.name for p in spec.params] == list(helper_signature.parameters)[1:]
            return
    else:
        torch_cls = getattr(nn, spec.torch_class.removeprefix("nn."))
    signature = inspect.signature(torch_cls.__init__)
    if spec.id in ("LSTM", "GRU", "RNN"):
        return  # *args/**kwargs constructors; covered by the generated-code tests
    for param in spec.params:
        if not param.codegen or (spec.helper and param.name in helper_signature.parameters):
            continue
        assert param.name in signature.parameters, f"{layer_id}.{param.name} is not a torch argument"
        if not param.positional and not param.always:
            torch_default = _torch_default(signature.parameters[param.name].default)
            # torch's None is False here (and the only value nearest mode takes): our False is never emitted
            torch_default = False if (layer_id, param.name) == ("Upsample", "align_corners") else torch_default
            assert torch_default == param.default, f"{layer_id}.{param.name}"
    for key, _value in spec.extra_args:
        assert key in signature.parameters, f"{layer_id}: fixed argument {key} is not a torch argument"


NEW_LAYERS = [
    "ReLU6",
    "Hardtanh",
    "Hardswish",
    "Hardsigmoid",
    "Mish",
    "PReLU",
    "SELU",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "Dropout1d",
    "ZeroPad2d",
    "PixelShuffle",
    "Conv3d",
    "MaxPool3d",
    "BatchNorm3d",
    "MultiheadAttention",
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "PositionalEmbedding",
    "Mean",
    "TakeToken",
]


def test_issue_13_layers_and_options_are_in_the_catalog():
    assert set(NEW_LAYERS) <= set(LAYERS)
    assert {s.id for s in by_category()["Attention"]} >= {"MultiheadAttention", "TransformerEncoder"}
    for conv in ("Conv1d", "Conv2d", "Conv3d"):
        assert LAYERS[conv].param("padding").validate("same") == "same"
        assert LAYERS[conv].has_param("padding_mode")
    for pool in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d"):
        assert LAYERS[pool].has_param("ceil_mode")
    for norm in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d"):
        assert LAYERS[norm].has_param("track_running_stats") and LAYERS[norm].has_param("affine")
    with pytest.raises(ParameterError):
        LAYERS["ConvTranspose2d"].param("padding").validate("same")  # torch has no "same" for it


@pytest.mark.parametrize("layer_id", sorted(k for k, s in LAYERS.items() if s.torch_class and not s.helper))
def test_inplace_is_offered_where_torch_has_it(layer_id):
    torch_cls = getattr(nn, LAYERS[layer_id].torch_class.removeprefix("nn."))
    torch_has = "inplace" in inspect.signature(torch_cls.__init__).parameters
    assert LAYERS[layer_id].has_param("inplace") == torch_has


def test_every_category_is_populated():
    groups = by_category()
    assert all(groups[c] for c in CATEGORIES)


def test_validation_messages():
    linear = get_spec("Linear")
    with pytest.raises(ParameterError, match="at least 1"):
        linear.param("out_features").validate(0)
    with pytest.raises(ParameterError, match="whole number"):
        linear.param("out_features").validate("10")
    with pytest.raises(ParameterError, match="whole number"):
        linear.param("out_features").validate(True)
    with pytest.raises(ParameterError, match="finite"):
        get_spec("Dropout").param("p").validate(float("nan"))
    with pytest.raises(ParameterError, match="one of"):
        get_spec("GELU").param("approximate").validate("fast")
    conv = get_spec("Conv2d")
    assert conv.param("kernel_size").validate([3, 3]) == 3
    assert conv.param("kernel_size").validate([3, 5]) == [3, 5]
    with pytest.raises(ParameterError):
        conv.param("kernel_size").validate([3, 5, 7])
    with pytest.raises(UnknownLayerError):
        get_spec("Conv9d")


def test_merge_inputs_follow_num_inputs():
    add = get_spec("Add")
    assert add.input_count({}) == 2
    assert add.input_count({"num_inputs": 4}) == 4
