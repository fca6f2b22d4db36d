"""What is checked before a run starts, the one check behind ``torchcanvas train`` and the window's Train: the
network against its dataset and loss (``core.model.analysis``, with ``core.model.task_check``), a dataset that
cannot be named or several Outputs (``core.code.script.setup_problems``, what export refuses too) and initial
weights that do not read, and a network too big for the memory it would train in (``memory_problems``: the estimate
of ``core.model.memory`` against ``core.training.machine_memory``). Its errors refuse the run in check's words; its
warnings (images resized or turned grey, scores that can never be right, a run that takes most of the memory) are
said before the first epoch.

The window runs it on the GUI thread when Train is pressed, before torch may have been imported (seconds on a
small machine): the modules that import torch are imported only when the cheap look says they have something
to say, so a project that is fine costs no torch here (the memory check asks torch about a GPU only for a network
whose training needs SMALL_NEED or more)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.datasets.spec import parse_spec
from core.errors import DataError
from core.model.analysis import Analysis, analyze
from core.model.graph import Graph
from core.model.memory import BYTES_PER_PARAMETER, TrainingNeed, eval_batch, outputs_held, size_words, training_need
from core.model.shape_rules import fmt
from core.training.machine_memory import Memory, device_memory

if TYPE_CHECKING:
    from core.files.project import Project


@dataclass(frozen=True)
class Precheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def refusal(self) -> str:
        """The errors as ``torchcanvas train`` says them after ``torchcanvas: error:`` ('' when there are none)."""
        if len(self.errors) == 1:
            return self.errors[0]
        if not self.errors:
            return ""
        listing = "".join(f"\n- {message}" for message in self.errors)
        return f"{len(self.errors)} problems to fix before training:{listing}"


def _setup_problems(project: Project) -> list[str]:
    """``setup_problems``' words, asked only when it has something to say (its module imports torch)."""
    try:
        parse_spec(project.training.dataset)
        named = True
    except DataError:
        named = False
    if named and len(project.graph.nodes_of_type("Output")) <= 1:
        return []
    from core.code.script import setup_problems  # deferred for start-up: it imports torch (see above)

    return setup_problems(project)


def check_before_training(project: Project) -> Precheck:
    """What keeps ``project`` from training now, and what training will change without asking."""
    analysis = analyze(project.graph, project.training)
    errors = [p.message for p in analysis.errors] + _setup_problems(project)
    if project.training.initial_weights:  # its module imports torch: a project without them needs none
        from core.training.setup import initial_weights_problems  # deferred for start-up, as above

        errors += initial_weights_problems(project.training.initial_weights)  # check says it too
    warnings = [p.message for p in analysis.problems if p.severity != "error"]
    too_big, big = memory_problems(project, analysis)
    return Precheck(errors + too_big, warnings + big)


# A network whose training needs less than this is not compared with the machine (no question to the system or
# the GPU, no torch import): every computer that runs TorchCanvas has more.
SMALL_NEED = 256 * 1000 * 1000
WARN_SHARE = 0.5  # a run that needs more than this share of the free memory is warned about


def memory_problems(
    project: Project, analysis: Analysis, memory_of: Callable[[str], Memory | None] = device_memory
) -> tuple[list[str], list[str]]:
    """([refusal], [warning]) when training ``project`` needs more memory than its device has free, or more than
    half of it: said before torch allocates anything (a 3-billion-parameter Linear otherwise ground a 23 GB
    computer for minutes, then failed with the allocator's text). ``memory_of(device setting)``: the device's
    memory (tests pass their own)."""
    need = training_need(project.graph, analysis, project.training)
    if need.total < SMALL_NEED:
        return [], []
    memory = memory_of(project.training.device)
    if memory is None:
        return [], []
    free = memory.available if memory.available is not None else memory.total
    if need.total <= WARN_SHARE * free:
        return [], []
    has = f"{size_words(free)} free ({size_words(memory.total)} in all)" if memory.available is not None else ""
    has = has or size_words(memory.total)
    fix, about_outputs = _fix(project.graph, analysis, need, free)
    cause = _cause(need, outputs_first=about_outputs)
    if need.total > free:
        return [f"{cause}: training needs about {size_words(need.total)}, and {memory.where} has {has}: {fix}."], []
    return [], [
        f"{cause}: training needs about {size_words(need.total)}, more than half of the {size_words(free)} "
        f"{memory.where} has free, so it may slow everything else down or run out of memory: {fix}."
    ]


def _cause(need: TrainingNeed, outputs_first: bool) -> str:
    """What takes the memory: the layer with the most parameters (or all of them), and the batch's outputs (said
    first when the fix is about them)."""
    kept = ", ".join(part for part in ("the gradients", need.optimizer_words) if part)
    kept += " and the trainer's copy of the last good weights"
    most, total_params = need.most_params, need.weights // BYTES_PER_PARAMETER
    if most is not None and 2 * most.amount >= total_params:
        held = f"{most.name} alone holds {most.amount:,} parameters ({size_words(BYTES_PER_PARAMETER * most.amount)})"
    else:
        held = f"the network holds {total_params:,} parameters ({size_words(need.weights)})"
    weights = f"{held}, and with {kept} the weights take {size_words(need.fixed)}"
    biggest = need.biggest_output
    if biggest is None:
        return weights
    if need.evaluating:
        batch = eval_batch(need.batch_size)
        outputs = (
            f"validating and testing in batches of {batch} holds {size_words(need.outputs)} of layer outputs at once"
        )
    else:
        batch = need.batch_size
        outputs = f"a batch of {batch} keeps {size_words(need.outputs)} of layer outputs for the backward pass"
    outputs += f" ({biggest.name}'s {fmt(biggest.shape)}: {size_words(batch * biggest.amount)})"
    return f"{outputs}; {weights}" if outputs_first else f"{weights}; {outputs}"


def _fix(graph: Graph, analysis: Analysis, need: TrainingNeed, free: int) -> tuple[str, bool]:
    """The change that helps most, and whether it is about the outputs: a smaller batch when the outputs are the
    trouble and a smaller one fits, else a smaller layer (the one holding the most parameters, or the one whose
    output is the biggest)."""
    biggest = need.biggest_output
    if need.fixed < need.outputs and biggest is not None:
        size = need.batch_size // 2
        while size >= 1:
            if need.fixed + outputs_held(size, need.per_sample, biggest.amount) <= WARN_SHARE * free:
                return f"lower the batch size ({need.batch_size}) to {size}", True
            size //= 2
        if need.fixed < WARN_SHARE * free:
            return _shrink(graph, analysis, biggest.node_id, output=True), True
    if need.most_params is not None:
        return _shrink(graph, analysis, need.most_params.node_id, output=False), False
    return "make the network smaller", False


def _shrink(graph: Graph, analysis: Analysis, node_id: str, output: bool) -> str:
    """How to make one node smaller: its largest number setting, or where that number comes from."""
    node, info = graph.node(node_id), analysis.nodes[node_id]
    if node.type == "Input":
        return f"make the samples smaller (the Input's shape {list(node.params.get('shape', []))})"
    if node.block is not None:
        return f"make {node.name} smaller (fewer channels or features in its layers)"
    numbers = {k: v for k, v in info.params.items() if isinstance(v, int) and not isinstance(v, bool)}
    if not numbers:
        what = "output" if output else "layer"
        return f"make {node.name}'s {what} smaller (fewer channels or features in the layers before it)"
    name, value = max(numbers.items(), key=lambda item: item[1])
    if name in info.auto:
        return (
            f"{node.name}'s {name} ({value:,}) comes from its input: make that smaller (a pooling layer, or fewer "
            f"channels or features before {node.name})"
        )
    return f"lower {node.name}'s {name} ({value:,})"
