"""Layer health (core.inspect.health): networks built to fail are diagnosed by name, a healthy one is not."""

from __future__ import annotations

import pytest
import torch

from core.datasets import load_dataset, load_for_settings
from core.files.project import Project
from core.inspect.health import HealthWatcher, suggested_rate
from core.model.graph import Graph
from core.settings import TrainingSettings
from core.training import Trainer
from core.training.precheck import check_before_training
from tests.core.train_fixtures import mlp_project

pytestmark = pytest.mark.slow  # each test trains for a second or two


class Losses:
    """Records every batch's loss, to compare the diagnosis with the batch it names."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        pass

    def after_batch(self, step: int, loss: float) -> None:
        self.losses.append(loss)

    def detach(self) -> None:
        pass


class NegativeBias(Losses):
    """Builds the network to die: fc1's bias at -100, so the ReLU after it outputs 0 for every input."""

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        with torch.no_grad():
            model.fc1.bias.fill_(-100.0)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


def train(project: Project, digits, *before: Losses, every: int = 5) -> tuple[HealthWatcher, object]:
    watcher = HealthWatcher.for_project(project, every=every, budget=float("inf"))  # sampled on time, not cost
    result = Trainer(project, data=digits, save=False, watchers=[*before, watcher]).run()
    return watcher, result


def test_a_healthy_mlp_gets_numbers_for_its_nodes_and_no_diagnosis(digits) -> None:
    watcher, result = train(mlp_project([64], 32, 10, epochs=2, batch_size=32), digits)
    assert result.status == "finished"
    assert watcher.diagnoses == []
    assert len(watcher.samples) >= 10
    assert [s.step for s in watcher.samples[:4]] == [1, 2, 4, 5]  # the early samples, then every 5th batch
    first = watcher.samples[0]
    rows = {row.name: row for row in first.layers}
    assert list(rows) == ["fc1", "relu", "fc2"]  # the canvas names, in the network's order
    assert rows["fc1"].grad_norm > 0 and 1e-5 < rows["fc1"].update_ratio < 1e-1
    assert 0.0 <= rows["relu"].dead < 0.5
    assert watcher.samples[-1].loss_mean < watcher.samples[0].loss_mean  # the loss trend: falling


def test_a_network_built_to_die_is_diagnosed_as_dead_relus(digits) -> None:
    losses = NegativeBias()
    watcher, _ = train(mlp_project([64], 32, 10, epochs=1, batch_size=32), digits, losses)
    kinds = [d.kind for d in watcher.diagnoses]
    assert kinds == ["dead"]  # and not also "vanishing": the dead units are the cause
    dead = watcher.diagnoses[0]
    assert dead.node == "relu"
    assert "100% of relu's units never fire" in dead.message and "LeakyReLU" in dead.message


def deep_sigmoid_mlp(layers: int) -> Project:
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=[64])]
    for i in range(1, layers + 1):
        nodes += [graph.add("Linear", f"fc{i}", out_features=32), graph.add("Sigmoid", f"sig{i}")]
    nodes += [graph.add("Linear", "head", out_features=10), graph.add("Output", "out")]
    graph.chain(nodes)
    settings = TrainingSettings(device="cpu", epochs=1, batch_size=32, val_fraction=0.1, optimizer="SGD", lr=0.01)
    return Project(graph, "Deep", "", settings)


def test_a_short_run_of_a_deep_sigmoid_mlp_is_diagnosed_even_when_sampling_gets_sparse(digits) -> None:
    """F8: 3 epochs of 7 batches (a few hundred rows). Sampled first at batch 10, with N raised past the end of the
    run after that one sample (a sample over the budget, as on the tester's machine), no diagnosis came: each
    needs two samples running."""
    project = deep_sigmoid_mlp(20)
    project.training.epochs, project.training.batch_size = 3, 256  # 1617 training rows: 7 batches an epoch
    watcher = HealthWatcher.for_project(project, budget=1e-9)  # every sample over budget: N grows 4x a sample
    Trainer(project, data=digits, save=False, watchers=[watcher]).run()
    steps = [s.step for s in watcher.samples]
    assert steps[:2] == [1, 2] and len(steps) >= 3 and max(steps) <= 21, steps
    vanishing = [d for d in watcher.diagnoses if d.kind == "vanishing"]
    assert [d.node for d in vanishing] == ["fc1"], watcher.diagnoses


def test_a_20_layer_sigmoid_mlp_is_diagnosed_as_vanishing_gradients(digits) -> None:
    watcher, _ = train(deep_sigmoid_mlp(20), digits)
    vanishing = [d for d in watcher.diagnoses if d.kind == "vanishing"]
    assert len(vanishing) == 1
    assert vanishing[0].node == "fc1"
    assert "vanishing gradients" in vanishing[0].message and "BatchNorm" in vanishing[0].message
    # a 2-layer sigmoid MLP on the same data is not
    shallow, _ = train(deep_sigmoid_mlp(2), digits)
    assert [d.kind for d in shallow.diagnoses] == []


def test_lr_10_with_adam_is_diagnosed_as_divergence_at_the_first_bad_batch(digits) -> None:
    losses = Losses()
    watcher, _ = train(mlp_project([64], 32, 10, epochs=1, batch_size=32, lr=10.0), digits, losses)
    diverged = [d for d in watcher.diagnoses if d.kind == "exploding"]
    assert len(diverged) == 1
    first_bad = next(i for i, loss in enumerate(losses.losses, 1) if loss > 100 * losses.losses[0])
    assert diverged[0].step == first_bad
    message = diverged[0].message
    assert "the learning rate 10 is too high for Adam; try 0.001" in message and "without becoming NaN" in message


def test_a_nan_loss_is_diagnosed_at_the_batch_where_training_stops(digits) -> None:
    losses = Losses()
    project = mlp_project([64], 32, 10, epochs=3, batch_size=32, lr=1e6, optimizer="SGD")
    watcher, result = train(project, digits, losses)
    assert result.status == "failed" and "loss became nan" in result.message  # the trainer's own NaN stop stays
    nan = [d for d in watcher.diagnoses if d.kind == "nan"]
    assert len(nan) == 1
    assert nan[0].step == len(losses.losses)  # the last batch run is the first non-finite one
    assert all(loss == loss for loss in losses.losses[:-1])
    assert f"NaN (not a number) at batch {nan[0].step}" in nan[0].message
    assert "the learning rate 1e+06 is too high for SGD; try 0.01" in nan[0].message


def test_suggested_rate_is_the_usual_one_or_a_tenth() -> None:
    assert suggested_rate("Adam", 10.0) == 1e-3
    assert suggested_rate("SGD", 1e4) == 1e-2
    assert suggested_rate("Adam", 1e-3) == pytest.approx(1e-4)


def test_hooks_are_only_there_around_a_sampled_batch_and_gone_after_the_run(digits) -> None:
    project = mlp_project([64], 32, 10, epochs=1, batch_size=32)
    hooked: list[tuple[int, int]] = []
    relu: list[torch.nn.Module] = []

    class Spy(Losses):
        def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
            relu.append(model.relu)

        def after_batch(self, step: int, loss: float) -> None:  # runs after the health watcher
            hooked.append((step, len(relu[0]._forward_hooks)))

    watcher = HealthWatcher.for_project(project, every=4, budget=float("inf"))
    Trainer(project, data=digits, save=False, watchers=[watcher, Spy()]).run()
    armed = [step for step, hooks in hooked if hooks]
    assert armed == [step for step, _ in hooked if (step + 1) in (2, 4) or (step + 1) % 4 == 0]  # 2, 4, 8, ...
    assert len(relu[0]._forward_hooks) == 0


def test_sampling_gets_sparser_when_a_sample_costs_more_than_the_budget(digits) -> None:
    watcher = HealthWatcher.for_project(mlp_project([64], 32, 10, epochs=1, batch_size=32), every=1, budget=1e-9)
    Trainer(mlp_project([64], 32, 10, epochs=1, batch_size=32), data=digits, save=False, watchers=[watcher]).run()
    # every sample is over budget: N grows 4x per sample (4, 16, 64), not to the limit at once, so that one
    # sample a busy machine held up does not end the sampling for the run
    assert [s.step for s in watcher.samples] == [1, 2, 4, 16] and watcher.every == 64  # step 1: no batch time yet


class BigWeights(Losses):
    """fc1's weights times 100: the tanh after it sits at +-1 for almost every input."""

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        with torch.no_grad():
            model.fc1.weight.mul_(100.0)


def tanh_mlp() -> Project:
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=[64]), graph.add("Linear", "fc1", out_features=32)]
    nodes += [graph.add("Tanh", "squash"), graph.add("Linear", "fc2", out_features=10), graph.add("Output", "out")]
    graph.chain(nodes)
    settings = TrainingSettings(device="cpu", epochs=1, batch_size=32, val_fraction=0.1, optimizer="SGD", lr=0.01)
    return Project(graph, "Tanh", "", settings)


def test_saturated_tanh_units_are_diagnosed_and_a_normal_tanh_is_not(digits) -> None:
    watcher, _ = train(tanh_mlp(), digits, BigWeights())
    assert [(d.kind, d.node) for d in watcher.diagnoses] == [("saturated", "squash")]
    assert "squash's outputs are saturated" in watcher.diagnoses[0].message
    normal, _ = train(tanh_mlp(), digits)
    assert normal.diagnoses == [] and normal.samples[-1].layers[1].saturated < 0.5


def test_sgd_at_rate_10000_ends_its_first_epoch_at_chance_and_the_rate_is_named(digits) -> None:
    """The loss grows a million-fold without a NaN and the run trains on in silence at 10 % accuracy: the epoch's
    accuracy, which batches never see, makes the diagnosis that names the rate and the fix."""
    project = mlp_project([64], 32, 10, epochs=1, batch_size=32, optimizer="SGD", lr=1e4)
    watcher, result = train(project, digits)
    assert result.status == "finished" and result.history[0]["val_accuracy"] < 0.19  # trained on, at chance
    chance = [d for d in watcher.diagnoses if d.kind == "chance"]
    assert len(chance) == 1, watcher.diagnoses
    message = chance[0].message
    assert message.startswith("The loss grew more than a million-fold in the first epoch and the accuracy is at")
    assert "guessing among 10 classes gives 10%" in message
    assert message.endswith("the learning rate 10000 is far too high for SGD; try 0.01.")


def test_a_rate_far_too_low_is_named_and_a_usual_rate_gets_a_second_epoch(digits) -> None:
    low, _ = train(mlp_project([64], 32, 10, epochs=1, batch_size=32, optimizer="SGD", lr=1e-6), digits)
    chance = [d.message for d in low.diagnoses if d.kind == "chance"]
    assert len(chance) == 1 and "the learning rate 1e-06 is too low for SGD" in chance[0] and "try 0.01" in chance[0]
    # SGD at its usual 0.01 leaves digits near chance after one epoch, and learns in the next: no diagnosis
    usual, result = train(mlp_project([64], 32, 10, epochs=2, batch_size=32, optimizer="SGD", lr=0.01), digits)
    assert result.history[-1]["val_accuracy"] > 0.19
    assert [d.kind for d in usual.diagnoses] == []


def test_after_epoch_without_classes_or_accuracy_says_nothing() -> None:
    watcher = HealthWatcher()
    watcher.after_epoch(3, {"loss": 1.0, "accuracy": None, "val_accuracy": None, "classes": None})  # regression
    watcher.after_epoch(3, {"loss": 1.0, "accuracy": 0.1, "val_accuracy": float("nan"), "classes": 1})
    assert watcher.diagnoses == []
    watcher.after_epoch(3, {"loss": 1.0, "accuracy": 0.52, "val_accuracy": float("nan"), "classes": 2})
    assert [d.kind for d in watcher.diagnoses] == ["chance"]  # 52 % of two classes: at chance, said once
    watcher.after_epoch(4, {"loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.5, "classes": 2})
    assert len(watcher.diagnoses) == 1


def _not_learning(model: torch.nn.Module) -> str:
    """The advice after a second epoch at chance, at Adam's usual rate (so the rate is not to blame)."""
    watcher = HealthWatcher()
    watcher.attach(model, torch.optim.Adam(model.parameters(), lr=1e-3))
    watcher.after_epoch(2, {"loss": 0.69, "accuracy": 0.5, "val_accuracy": 0.5, "classes": 2})
    watcher.detach()
    [diagnosis] = watcher.diagnoses
    return diagnosis.message


def test_a_network_on_token_ids_is_not_told_to_normalise_them() -> None:
    """Token ids go into an Embedding: "check that the inputs are normalised" meant nothing for them; the
    advice names the text spec's max_length instead. Pixels or table columns still get the normalising advice."""
    text = _not_learning(torch.nn.Sequential(torch.nn.Embedding(100, 8), torch.nn.Flatten(), torch.nn.Linear(40, 2)))
    assert "the network is not learning" in text and "normalised" not in text
    assert "?max_length=N" in text and "larger one" in text
    table = _not_learning(torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)))
    assert "that the inputs are normalised" in table and "max_length" not in table


def token_csv(path, samples: int = 2000) -> str:
    """The built-in sequences set (the class is the first marker token among 20 ids from 0 to 29) saved as a CSV:
    the same token ids, which a CSV reads as float32 numbers unless the Input asks for int64."""
    from core.portable.sources import make_sequences

    x, y, *_ = make_sequences(samples, 20, 30, 4, 0)
    rows = [",".join([*(f"t{i}" for i in range(20)), "label"])]
    rows += [",".join(str(v) for v in [*row, label]) for row, label in zip(x.tolist(), y.tolist())]
    path.write_text("\n".join(rows) + "\n")
    return f"csv:{path}:label"


def test_token_ids_into_a_linear_first_layer_are_named_with_the_embedding_fix(tmp_path) -> None:
    """Token ids in a CSV pass every check before the run (whole numbers may be amounts: a CSV of pixels is too),
    and a float32 Input feeds them to fc1 as amounts: the run stays at chance. The diagnosis used to say "check
    that the inputs are normalised" (they were); it names the Input, the first layer and the Embedding."""
    spec = token_csv(tmp_path / "tokens.csv")
    project = mlp_project([20], 32, 4, dataset=spec, epochs=3, batch_size=32)
    assert check_before_training(project).errors == []  # nothing stops the run before it starts
    data = load_for_settings(project.training, (20,), None, None)
    watcher, result = train(project, data)
    assert result.status == "finished" and result.test_accuracy < 0.4  # at chance (25 %) or near it
    [chance] = [d for d in watcher.diagnoses if d.kind == "chance"]
    message = chance.message
    assert "the network is not learning" in message and "normalised" not in message
    assert "x's values are whole numbers from 0 to 29 and go straight into fc1 (Linear)" in message
    assert "add an Embedding after the Input (num_embeddings = 30) and set x's dtype to int64" in message
