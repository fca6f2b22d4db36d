"""Review 5 R14: the exported script (and the app, alike) trains on one CPU thread only when a batch is little
arithmetic. The rule read the parameter count, so a ResNet on 32x32 pictures (43 thousand parameters, 18 million
multiply-adds a sample) got ``torch.set_num_threads(1)  # a model this small ...``; it now reads a batch's
multiply-adds (a sample's, ``core.model.compute``, checked here against torch's own FLOP counter)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import core.training.trainer as trainer_module
from core.code.script import generate_script, input_shape_of
from core.code.script_loop import SMALL_BATCH_MACS, single_thread
from core.errors import TrainingError
from core.model.analysis import analyze
from core.model.compute import multiply_adds
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import example

ONE_THREAD = "torch.set_num_threads(1)"


@pytest.mark.parametrize("name", ["digits_mlp", "mnist_cnn", "residual_cnn", "resnet_small", "spirals"])
def test_the_multiply_adds_are_torchs_count_for_convolutions_and_linears(name: str) -> None:
    """FlopCounterMode counts the convolutions' and matrix products' FLOPs (two a multiply-add); the estimate
    adds the biases and BatchNorm's few, so it is within 5% (recurrent and attention layers it cannot count)."""
    project = example(name)
    script, _ = run_as_module(generate_script(project).source)
    model = script.Net().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(1, *input_shape_of(project)))
    torch_count = counter.get_total_flops() / 2
    assert multiply_adds(project.graph, analyze(project.graph)) == pytest.approx(torch_count, rel=0.05)


def test_a_recurrent_layer_counts_its_weights_at_every_step() -> None:
    project = example("digits_lstm")  # 8 rows of 8 pixels: an LSTM over 8 steps, then a Linear on the last
    graph, analysis = project.graph, analyze(project.graph)
    lstm = next(n for n in graph.nodes if n.type == "LSTM")
    rest = sum(analysis.nodes[n.id].param_count for n in graph.nodes if n.type == "Linear")
    assert multiply_adds(graph, analysis) == 8 * analysis.nodes[lstm.id].param_count + rest


def test_a_small_conv_net_on_pictures_is_not_told_it_is_small() -> None:
    """resnet_small has 43,061 parameters, under the old 200,000-parameter rule, and 18.5 million multiply-adds a
    sample (1.2 billion a batch of 64): its script set one thread and said "a model this small". residual_cnn,
    a convolution over 8x8 digits, is 10 million a batch of 32: one thread still."""
    project = example("resnet_small")
    analysis = analyze(project.graph)
    assert analysis.total_params < 200_000 and multiply_adds(project.graph, analysis) * 64 > SMALL_BATCH_MACS
    assert "set_num_threads" not in generate_script(project).source
    digits = generate_script(example("residual_cnn")).source
    assert "torch.set_num_threads(1)  # few multiply-adds a batch: one thread is fastest" in digits


@pytest.mark.parametrize("name", ["digits_mlp", "digits_lstm", "spirals", "mnist_cnn", "resnet_small"])
def test_the_app_decides_one_thread_as_the_script_does(monkeypatch, name: str) -> None:
    """The trainer sets the thread count before it builds the script: stopped right there, it has set one thread
    exactly where the exported script does (the sums of the two match only on the same threads)."""
    project = example(name, device="cpu")
    source = generate_script(project).source
    one = single_thread(multiply_adds(project.graph, analyze(project.graph)), project.training.batch_size)
    assert (ONE_THREAD in source) == one
    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)

    def stop(_project: object) -> None:
        raise TrainingError("stopped after the thread count")

    monkeypatch.setattr(trainer_module, "generate_script", stop)
    result = Trainer(project, save=False).run()
    assert result.status == "failed" and "stopped after the thread count" in result.message
    assert calls[:-1] == ([1] if one else [])  # the last call gives the caller's count back
