"""Code to canvas: importing nn.Modules through torch.fx gives projects whose generated code has the original's
state_dict keys, parameter count and outputs; what cannot be imported gets one plain message per cause."""

from __future__ import annotations

import dataclasses
import inspect
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

from core.cli import main
from core.datasets import load_dataset
from core.files.initial_weights import KEY, initial_weights
from core.files.project import load
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source
from core.training import Trainer
from tests.core.import_fixtures import round_trip
from tests.core.mnist_net import MNIST_MAIN
from tests.core.train_fixtures import MNIST, needs_mnist

MNIST_CNN = MNIST_MAIN.read_text(encoding="utf-8")  # a user's file: pytorch/examples' mnist/main.py


@pytest.mark.slow
def test_resnet18_imports_with_blocks_repeats_and_torchvision_keys() -> None:
    torch.manual_seed(0)
    model = ResNet(BasicBlock, [2, 2, 2, 2])  # torchvision's resnet18 (11,689,512 parameters)
    graph = round_trip(model, [3, 32, 32]).graph
    layer1 = graph.by_name("layer1")
    assert layer1 is not None and layer1.block == "BasicBlock" and layer1.repeat == 2
    layer2 = graph.by_name("layer2")
    assert layer2 is not None and (layer2.block, layer2.repeat) == ("BasicBlock", 2)
    first = graph.blocks[layer2.first_block]  # the strided block with its projection shortcut
    assert "downsample" in {n.name for n in first.graph.nodes} and [a.name for a in first.args] == ["out_channels"]
    assert {n.name for n in graph.blocks["BasicBlock"].graph.nodes} >= {"conv1", "bn1", "conv2", "bn2"}


@pytest.mark.slow
def test_squeezenet_fire_blocks_round_trip() -> None:
    torch.manual_seed(0)
    round_trip(load_source("torchvision:squeezenet1_0", {"num_classes": 10}), [3, 64, 64])


@pytest.mark.slow
def test_mobilenet_v2_round_trips() -> None:
    torch.manual_seed(0)
    round_trip(load_source("torchvision:mobilenet_v2", {"num_classes": 10, "width_mult": 0.25}), [3, 32, 32])


@pytest.mark.slow
@needs_mnist
def test_mnist_example_file_imports_and_trains_on_mnist(tmp_path) -> None:
    source = tmp_path / "mnist_net.py"
    source.write_text(MNIST_CNN)
    out = tmp_path / "mnist.json"
    assert main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "1,28,28"]) == 0
    project = load(out)
    types = [n.type for n in project.graph.nodes]
    assert types.count("ReLU") == 3 and "MaxPool2d" in types and "Flatten" in types and "LogSoftmax" in types
    assert initial_weights(project, out) == tmp_path / project.extra[KEY]
    project.training.dataset = f"npz:{MNIST / 'mnist_10k.npz'}"
    project.training.loss = "NLLLoss"
    project.training.epochs = 1
    project.training.batch_size = 128
    data = load_dataset(project.training.dataset, input_shape=(1, 28, 28))
    sizes = {"train": 1200, "val": 200, "test": 300}
    small = {f"{xy}_{split}": getattr(data, f"{xy}_{split}")[:n] for split, n in sizes.items() for xy in "xy"}
    data = dataclasses.replace(data, **small)  # one epoch of the CNN stays a few seconds on 2 cores
    result = Trainer(project, out_dir=tmp_path / "runs", data=data).run()
    assert result.status == "finished", result.message
    assert result.test_accuracy is not None and result.test_accuracy > 0.5


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.fc(x)
        return x


class MyAttention(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, x.transpose(1, 2))


class WithAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.attn = MyAttention()
        self.norm = nn.LocalResponseNorm(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.attn(self.fc(x))
        x.add_(1)
        return self.norm(x)


def test_data_dependent_control_flow_is_explained_with_the_line() -> None:
    with pytest.raises(ModelImportError) as info:
        import_model(Branchy(), [4])
    (message,) = info.value.problems
    assert "`model`" in message and "test_fx_import.py:" in message and "if x.sum() > 0" in message


def test_each_unsupported_part_gets_its_own_message_naming_module_and_line() -> None:
    with pytest.raises(ModelImportError) as info:
        import_model(WithAttention(), [3, 4])
    problems = info.value.problems
    assert len(problems) == 3, problems
    attention = next(p for p in problems if "matmul" in p)
    assert attention.startswith("`model.attn` is a `MyAttention`: not a TorchCanvas layer")
    line = inspect.getsourcelines(MyAttention.forward)[1] + 1
    assert "`torch.matmul` at " in attention and f"test_fx_import.py:{line}" in attention
    assert "`x.transpose`" not in attention  # x.transpose(1, 2) is a Permute now; only the matmul is left
    assert any("in place" in p and "add_" in p for p in problems)
    norm = next(p for p in problems if "LocalResponseNorm" in p)
    assert norm.startswith("`model.norm` is a `LocalResponseNorm`: not a TorchCanvas layer; supported:")


def test_cli_prints_the_causes_without_a_traceback(tmp_path, capsys) -> None:
    source = tmp_path / "branchy.py"
    source.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Model(nn.Module):
                def forward(self, x):
                    while x.max() > 1:
                        x = x / 2
                    return x
            """
        )
    )
    out = tmp_path / "p.json"
    assert main(["import", f"{source}:Model", "-o", str(out), "--input-shape", "4"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "branchy.py:7" in err and "while x.max() > 1" in err
    assert not out.exists()
    assert main(["import", f"{source}:Missing", "-o", str(out)]) == 1
    assert "no nn.Module class Missing" in capsys.readouterr().err


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


def test_initial_weights_are_exported_and_fine_tuning_starts_from_them(tmp_path) -> None:
    from core.files.initial_weights import save_with_weights
    from core.files.weights import load_weights

    torch.manual_seed(3)
    model = Tiny()
    result = import_model(model, [2], name="tiny")
    path = tmp_path / "tiny.json"
    save_with_weights(result.project, result.state, path)
    assert main(["export", str(path), "-f", "weights", "-o", str(tmp_path / "w.pt")]) == 0
    exported = load_weights(tmp_path / "w.pt")
    assert all(torch.equal(exported[k], v) for k, v in model.state_dict().items())

    project = load(path)
    assert project.training.fine_tune
    project.training.dataset, project.training.epochs, project.training.lr = "spirals", 1, 1e-9
    start = initial_weights(project, path)
    tuned = Trainer(project, save=False, initial_weights=start)
    assert tuned.run().status == "finished"
    assert tuned.model is not None
    got = tuned.model.state_dict()
    assert all(torch.allclose(got[k], v, atol=1e-5) for k, v in model.state_dict().items())
    project.training.fine_tune = False
    scratch = Trainer(project, save=False, initial_weights=start)
    assert scratch.run().status == "finished" and scratch.model is not None
    assert not torch.allclose(scratch.model.state_dict()["hidden.weight"], model.hidden.weight)


def test_fine_tuning_without_its_weights_file_says_it_starts_from_scratch(tmp_path) -> None:
    """A project that names initial weights no longer beside it (moved, deleted) trained from random weights
    without a word; now the run says so."""
    from core.files.initial_weights import initial_weights, save_with_weights

    result = import_model(Tiny(), [2], name="tiny")
    path = tmp_path / "tiny.json"
    save_with_weights(result.project, result.state, path)
    (tmp_path / "tiny.initial.pt").unlink()
    project = load(path)
    project.training.dataset, project.training.epochs = "spirals", 1
    notices: list[str] = []
    trainer = Trainer(
        project,
        save=False,
        initial_weights=initial_weights(project, path),
        on_event=lambda e: e.kind == "notice" and notices.append(e.message),
    )
    assert trainer.run().status == "finished"
    assert any("tiny.initial.pt are not beside the project file" in n and "fresh random weights" in n for n in notices)


def test_fine_tuning_frozen_layers_without_their_weights_file_is_refused_in_words(tmp_path) -> None:
    """Review 6 S4: with a frozen layer the run trained on, the frozen layer at random values (the exported script
    refuses it too)."""
    from core.files.initial_weights import initial_weights, save_with_weights

    result = import_model(Tiny(), [2], name="tiny")
    path = tmp_path / "tiny.json"
    save_with_weights(result.project, result.state, path)
    (tmp_path / "tiny.initial.pt").unlink()
    project = load(path)
    project.training.dataset, project.training.epochs = "spirals", 1
    next(n for n in project.graph.nodes if n.name == "hidden").trainable = False
    run = Trainer(project, save=False, initial_weights=initial_weights(project, path)).run()
    assert run.status == "failed" and "hidden are frozen" in run.message and "tiny.initial.pt" in run.message
    assert "Traceback" not in run.message and run.history == []


class WithUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.aux = nn.Linear(4, 2)  # only used in training, like GoogLeNet's auxiliary classifiers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def test_a_layer_never_called_is_left_out_with_a_note_naming_it() -> None:
    model = WithUnused()
    result = import_model(model, [4])
    assert result.skipped == ["aux.weight", "aux.bias"]
    assert set(result.state) == {"fc.weight", "fc.bias"}
    assert result.notes == [
        "`model.aux` is never used in forward (in eval mode): left out of the drawing, and 2 of the original's "
        "weights with it."
    ]
    assert [n.name for n in result.project.graph.nodes if n.type == "Linear"] == ["fc"]
    assert result.max_difference == 0.0


def test_the_command_line_prints_the_note_naming_what_was_left_out(tmp_path, capsys) -> None:
    source = tmp_path / "unused.py"
    source.write_text(
        textwrap.dedent(
            """
            from torch import nn

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)
                    self.aux = nn.Linear(4, 2)

                def forward(self, x):
                    return self.fc(x)
            """
        )
    )
    out = tmp_path / "p.json"
    assert main(["import", f"{source}:Model", "-o", str(out), "--input-shape", "4"]) == 0
    printed = capsys.readouterr().out
    assert "note: `model.aux` is never used in forward (in eval mode): left out of the drawing" in printed
    assert "aux" not in [n.name for n in load(out).graph.nodes]


class Expansion(nn.Module):
    """EfficientNet's block: the expansion layers are built at every ratio, called only when it is not 1."""

    def __init__(self, ratio: int) -> None:
        super().__init__()
        self.ratio = ratio
        self.conv1 = nn.Conv2d(4, 4 * ratio, 1)
        self.bn1 = nn.BatchNorm2d(4 * ratio)
        self.conv2 = nn.Conv2d(4 * ratio, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.ratio == 1 else torch.relu(self.bn1(self.conv1(x)))
        return self.conv2(out)


def test_layers_a_block_skips_are_named_at_their_own_path_and_the_rest_imports_exactly() -> None:
    model = nn.Sequential(Expansion(1), Expansion(2))
    result = import_model(model, [4, 6, 6])
    assert "`model.0.conv1`, `model.0.bn1` are never used in forward" in result.notes[0]
    assert all(key.startswith(("0.conv1.", "0.bn1.")) for key in result.skipped) and len(result.skipped) == 7
    assert {k for k in model.state_dict() if k not in result.skipped} == set(result.state)
    assert "1.conv1.weight" in result.state and result.max_difference == 0.0


class Scaled(nn.Module):
    """A block that runs but never reads one of its tensors (a scale kept from an experiment)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def test_a_tensor_a_running_block_never_reads_is_named_itself_and_left_out() -> None:
    result = import_model(nn.Sequential(Scaled(), nn.ReLU()), [4])
    assert result.skipped == ["0.scale"] and "0.fc.weight" in result.state
    assert result.notes[0].startswith("`model.0.scale` is never used in forward (in eval mode)")
    assert result.max_difference == 0.0


class Calls(nn.Module):
    """Functional calls that become layers: +, torch.cat, F.relu, x.view(x.size(0), -1), x.mean([2, 3])."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(8, 5)
        self.head = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([F.relu(self.a(x)), self.b(x)], 1)
        pooled = self.fc(y.mean([2, 3]))
        flat = F.adaptive_avg_pool2d(y, 4)
        return pooled + self.head(flat.view(flat.size(0), -1))


def test_functional_calls_become_layers_and_round_trip() -> None:
    torch.manual_seed(0)
    round_trip(Calls(), [3, 8, 8])
    types = [n.type for n in import_model(Calls(), [3, 8, 8], check=False).project.graph.nodes]
    for layer in ("Concat", "ReLU", "AdaptiveAvgPool2d", "Flatten", "Add"):
        assert layer in types, types


def test_cli_imports_a_file_with_args_and_a_weights_file(tmp_path, capsys) -> None:
    source = tmp_path / "tiny_net.py"
    source.write_text(
        textwrap.dedent(
            """
            from torch import nn

            class Tiny(nn.Module):
                def __init__(self, classes):
                    super().__init__()
                    self.hidden = nn.Linear(2, 16)
                    self.out = nn.Linear(16, classes)

                def forward(self, x):
                    return self.out(self.hidden(x).relu())
            """
        )
    )
    torch.manual_seed(5)
    trained = {"hidden.weight": torch.randn(16, 2), "hidden.bias": torch.randn(16)}
    trained |= {"out.weight": torch.randn(4, 16), "out.bias": torch.randn(4)}
    torch.save(trained, tmp_path / "trained.pth")
    out = tmp_path / "tiny.json"
    argv = ["import", f"{source}:Tiny", "-o", str(out), "--input-shape", "2", "--args", "[4]"]
    assert main([*argv, "--weights", str(tmp_path / "trained.pth")]) == 0, capsys.readouterr().err
    stored = torch.load(initial_weights(load(out), out), weights_only=True)
    assert all(torch.equal(stored[k], v) for k, v in trained.items())
    assert main(argv) == 2  # the project exists: --force replaces it
    assert main([*argv[:-1], "[3]", "--force", "--weights", str(tmp_path / "trained.pth")]) == 1
    assert "does not fit the model: its out.weight has shape [4, 16]" in capsys.readouterr().err
    assert torch.equal(torch.load(initial_weights(load(out), out), weights_only=True)["out.bias"], trained["out.bias"])


def test_the_same_problem_in_several_modules_is_one_message() -> None:
    model = nn.Sequential()
    model.fc, model.first, model.second = nn.Linear(4, 4), MyAttention(), MyAttention()
    with pytest.raises(ModelImportError) as info:
        import_model(model, [3, 4])
    (message,) = info.value.problems
    assert message.startswith("`model.first` (and 1 more like it: `model.second`) is a `MyAttention`")


def test_a_wrong_input_shape_is_one_line_without_a_traceback(tmp_path, capsys) -> None:
    source = tmp_path / "mnist_net.py"
    source.write_text(MNIST_CNN)
    assert main(["import", f"{source}:Net", "-o", str(tmp_path / "p.json")]) == 1  # default 3,224,224
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ShapeProp" not in err
    assert "does not run on an input of shape [1, 3, 224, 224]: conv1 (Conv2d(1, 32" in err and "--input-shape" in err
    assert "mnist_net.py:" in err and "Given groups=1" in err  # the first layer, at the user's line
