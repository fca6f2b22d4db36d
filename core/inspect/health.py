"""Layer health while a network trains: per layer the gradient norm, the update/weight ratio, the share of dead
ReLU units and of saturated sigmoid/tanh units, and the loss trend, with diagnoses in plain words that name the node
and the fix (vanishing gradients, dead ReLUs, a loss that explodes with or without NaN). This module samples; what
the numbers mean (the records, thresholds and layer rules) is ``core.inspect.diagnoses``.

``HealthWatcher`` is a ``core.training.watch.Watcher``. It costs nothing on most batches: only before every N-th
batch does it copy the weights and hook the activations (the hooks keep one small number per unit, never the
activations), and after it read the gradients. N starts at ``every`` and follows (as a power of two) what keeps a
sample under ``budget`` (2 %) of the batches between samples: its own time then stays near 2 %, under
the 5 % target with room for what its clock cannot see (bench/inspect_overhead.py measures both).
Before batch ``every`` it also samples batches 1, 2, 4, 8, ...: a short run (a few hundred rows, a few epochs: 9 or
21 batches) gets two samples running, which every diagnosis needs, before N can grow past its end; sampled at 10
only, with N raised to 32 after that sample, a 20-layer sigmoid MLP went undiagnosed and the tab stayed empty.
The loss is looked at every batch (it is a float already): a NaN is diagnosed at the batch it appears. After each
epoch (``after_epoch``) the accuracy is compared with chance: a loss that grew a million-fold without a NaN leaves
an accuracy of 1/classes, and that pair names the learning rate as the cause.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from core.inspect.diagnoses import (
    CHANCE_MARGIN,
    DIVERGED,
    SATURATED,
    USUAL_RATES,
    Diagnosis,
    HealthSample,
    LayerHealth,
    fold,
    layer_findings,
    suggested_rate,
    tokens_as_amounts,
)
from core.inspect.nodes import InspectError, NodeRef, label, module_nodes
from core.training.watch import Watcher

if TYPE_CHECKING:
    from core.files.project import Project

# The records and the rate rule live in core.inspect.diagnoses; the views and tests read them from here too.
__all__ = ["Diagnosis", "HealthSample", "HealthWatcher", "LayerHealth", "suggested_rate"]


class HealthWatcher(Watcher):
    """Samples layer health every N batches and diagnoses what goes wrong; reports through ``on_sample`` and
    ``on_diagnosis`` (called on the training thread) and keeps everything in ``samples`` and ``diagnoses``."""

    def __init__(
        self,
        nodes: dict[str, NodeRef] | None = None,
        *,
        every: int = 10,
        budget: float = 0.02,
        on_sample: Callable[[HealthSample], None] | None = None,
        on_diagnosis: Callable[[Diagnosis], None] | None = None,
    ) -> None:
        self.nodes = nodes or {}
        self.every = self._asked = max(1, every)
        self.budget = budget
        self.on_sample, self.on_diagnosis = on_sample, on_diagnosis
        self.samples: list[HealthSample] = []
        self.diagnoses: list[Diagnosis] = []
        self._said: set[tuple[str, str | None]] = set()
        self._model: nn.Module | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._layers: list[tuple[str, list[nn.Parameter]]] = []
        self._activations: list[tuple[str, nn.Module]] = []
        self._hooks: list[Any] = []
        self._before: list[torch.Tensor] | None = None
        self._acts: dict[str, tuple[str, torch.Tensor]] = {}
        self._first_loss: float | None = None
        self._peak = 0.0  # the largest loss seen, once it has grown past DIVERGED times the first
        self._diverged_in: int | None = None  # the epoch in which it did
        self._token_ids = False  # an Embedding takes the inputs: normalising them means nothing
        self.tokens_as_amounts: str | None = None  # whole numbers into a first layer that is no Embedding
        self._step = 0
        self._window = [0.0, 0]  # loss sum and count since the last sample
        self._cost = 0.0  # seconds this watcher spent on the current sample
        self.seconds = 0.0  # seconds it spent in all (its hooks included): its overhead, for the bench
        self._clock: float | None = None
        self._batch_seconds = 0.0

    @classmethod
    def for_project(cls, project: Project, **options: Any) -> HealthWatcher:
        """A watcher that names the project's nodes (for a network that cannot be built, the trainer says why;
        the watcher then names attributes)."""
        try:
            nodes = module_nodes(project.graph)
        except InspectError:
            nodes = {}
        watcher = cls(nodes, **options)
        watcher.tokens_as_amounts = tokens_as_amounts(project)
        return watcher

    # -- the Watcher protocol ----------------------------------------------------------------------------
    def attach(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self._model, self._optimizer = model, optimizer
        self._layers = []
        for name, child in model.named_children():
            params = [p for p in child.parameters() if p.requires_grad]
            if params:
                self._layers.append((name, params))
        kinds = (nn.ReLU, nn.Sigmoid, nn.Tanh)
        self._activations = [(name, m) for name, m in model.named_modules() if name and isinstance(m, kinds)]
        leaves = [m for m in model.modules() if next(m.children(), None) is None]
        self._token_ids = bool(leaves) and isinstance(leaves[0], nn.Embedding)  # its inputs are token ids
        self._clock = time.perf_counter()
        self._arm()  # batch 1: the first of the early samples

    def after_batch(self, step: int, loss: float) -> None:
        started = time.perf_counter()
        if self._clock is not None and step > 1:  # the batch's time, without this watcher's own
            seconds = started - self._clock
            self._batch_seconds = 0.9 * self._batch_seconds + 0.1 * seconds if self._batch_seconds else seconds
        self._step = step
        self._watch_loss(step, loss)
        if math.isfinite(loss):
            self._window[0] += loss
            self._window[1] += 1
        if self._before is not None or self._hooks:
            self._sample(step, loss)
        upcoming = step + 1
        early = upcoming < self._asked and upcoming & (upcoming - 1) == 0  # 2, 4, 8, ... below the asked N
        if early or upcoming % self.every == 0:
            self._arm()
        ended = time.perf_counter()
        self._cost += ended - started
        self._clock = ended

    def after_epoch(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        started = time.perf_counter()
        if self._peak and self._diverged_in is None:
            self._diverged_in = epoch
        self._watch_accuracy(epoch, metrics)
        self.seconds += time.perf_counter() - started

    def detach(self) -> None:
        self.seconds += self._cost
        self._cost = 0.0
        self._disarm()
        self._before = None

    # -- sampling ----------------------------------------------------------------------------------------
    def _arm(self) -> None:
        """Before a sampled batch: remember the weights and hook the activations (removed after it)."""
        self._before = [p.detach().clone() for _, params in self._layers for p in params]
        self._acts = {}
        for name, module in self._activations:
            self._hooks.append(module.register_forward_hook(self._hook(name)))

    def _disarm(self) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    def _hook(self, name: str) -> Callable[..., None]:
        def summarise(module: nn.Module, inputs: Any, output: Any) -> None:
            if not module.training or not isinstance(output, torch.Tensor) or output.ndim < 2:
                return  # validation passes run between batches too; they are not the sampled batch
            started = time.perf_counter()
            out = output.detach()
            if isinstance(module, nn.ReLU):
                units = out.flatten(0, 1) if out.ndim == 3 else out.transpose(0, 1).flatten(1).T  # units last
                self._acts[name] = ("dead", 1.0 - (units > 0).any(0).float().mean())
            elif isinstance(module, nn.Sigmoid):
                self._acts[name] = ("saturated", ((out < 1 - SATURATED) | (out > SATURATED)).float().mean())
            else:
                self._acts[name] = ("saturated", (out.abs() > SATURATED).float().mean())
            self._cost += time.perf_counter() - started

        return summarise

    def _sample(self, step: int, loss: float) -> None:
        self._disarm()
        rows = {name: LayerHealth(label(name, self.nodes), self._node_id(name)) for name, _ in self._layers}
        params = [p.detach() for _, group in self._layers for p in group]
        if params:
            # torch's foreach kernels (as clip_grad_norm_ uses): a few calls for all the layers, one device copy
            grads = [
                p.grad if p.grad is not None else torch.zeros((), device=p.device) for _, g in self._layers for p in g
            ]
            norms = [*torch._foreach_norm(grads), *torch._foreach_norm(params)]
            if self._before is not None:
                norms += torch._foreach_norm(torch._foreach_sub(params, self._before))
            numbers = torch.stack(norms).double().cpu().tolist()
            n, k = len(params), 0
            for name, group in self._layers:
                part = range(k, k + len(group))
                k += len(group)
                row = rows[name]
                row.grad_norm = math.sqrt(sum(numbers[i] ** 2 for i in part))
                if len(numbers) == 3 * n:
                    weights = math.sqrt(sum(numbers[n + i] ** 2 for i in part))
                    row.update_ratio = math.sqrt(sum(numbers[2 * n + i] ** 2 for i in part)) / max(weights, 1e-30)
        for name, (kind, value) in self._acts.items():  # activations have rows of their own (no weights)
            row = rows.setdefault(name, LayerHealth(label(name, self.nodes), self._node_id(name)))
            setattr(row, kind, float(value))
        order = [n for n, _ in self._model.named_modules() if n in rows] if self._model is not None else list(rows)
        total, count = self._window
        sample = HealthSample(step, loss, total / count if count else loss, [rows[n] for n in order])
        self._window = [0.0, 0]
        self._before, self._acts = None, {}
        self.samples.append(sample)
        if self.on_sample is not None:
            self.on_sample(sample)
        self._diagnose_layers()
        self._keep_cost_down()

    def _keep_cost_down(self) -> None:
        """Set N to the power of two that keeps one sample under the budget's share of the batches between two
        (never below the ``every`` asked for), moving at most 4x up or 2x down per sample: a run of tiny batches is
        not slowed for long, and one sample that a busy machine held up is not taken as the rule."""
        if self._batch_seconds > 0 and self.budget > 0:
            needed = max(self._cost / (self.budget * self._batch_seconds), 1.0)
            target = max(self._asked, 1 << math.ceil(math.log2(needed)))
            self.every = min(target, self.every * 4, 10_000) if target > self.every else max(target, self.every // 2)
        self.seconds += self._cost
        self._cost = 0.0

    def _node_id(self, name: str) -> str | None:
        ref = self.nodes.get(name.split(".")[0])
        return ref.node_id if ref is not None else None

    # -- diagnoses ---------------------------------------------------------------------------------------
    def _say(self, kind: str, step: int, node: str | None, message: str) -> None:
        if (kind, node) in self._said:
            return
        self._said.add((kind, node))
        diagnosis = Diagnosis(kind, step, node, message)
        self.diagnoses.append(diagnosis)
        if self.on_diagnosis is not None:
            self.on_diagnosis(diagnosis)

    def _rate(self) -> tuple[str, float]:
        if self._optimizer is None:
            return "the optimizer", math.nan
        return type(self._optimizer).__name__, float(self._optimizer.param_groups[0]["lr"])

    def _advice(self) -> str:
        optimizer, lr = self._rate()
        return f"the learning rate {lr:g} is too high for {optimizer}; try {suggested_rate(optimizer, lr):g}"

    def _watch_loss(self, step: int, loss: float) -> None:
        """Every batch, so it is kept to two comparisons unless something is wrong."""
        if not math.isfinite(loss):
            where = self._largest_gradient()
            what = "NaN (not a number)" if math.isnan(loss) else "infinite (as bad as NaN)"
            blame = f"; the largest gradients were in {where}" if where else ""
            self._say("nan", step, where, f"The loss became {what} at batch {step}{blame}: {self._advice()}.")
            return
        if self._first_loss is None:
            self._first_loss = abs(loss)
        elif self._first_loss > 0 and abs(loss) > DIVERGED * self._first_loss:
            self._peak = max(self._peak, abs(loss))
            grew = fold(abs(loss) / self._first_loss)
            self._say(
                "exploding",
                step,
                None,
                f"The loss grew {grew} without becoming NaN (from {self._first_loss:.3g} at the first batch to "
                f"{loss:.3g} at batch {step}): training is diverging; {self._advice()}.",
            )

    def _watch_accuracy(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        """After an epoch: an accuracy at chance, said with what to change. The rate is named when the loss grew
        past ``DIVERGED`` times its first value or the rate lies ten times or more from the optimizer's usual one;
        at a usual rate the network gets a second epoch before it is called not learning (a hard task starts
        slowly: SGD at 0.01 leaves digits at 14 % after one epoch, 32 % after two)."""
        classes = metrics.get("classes")
        scores = [metrics.get("accuracy"), metrics.get("val_accuracy")]
        shown = [v for v in scores if v is not None and math.isfinite(v)]
        if not classes or classes < 2 or not shown:
            return
        accuracy, chance = max(shown), 1 / classes
        if accuracy >= chance + CHANCE_MARGIN * (1 - chance):
            return
        optimizer, lr = self._rate()
        usual = USUAL_RATES.get(optimizer, 1e-3)
        at = (
            f"the accuracy is at chance ({accuracy:.0%} after epoch {epoch}; guessing among {classes:g} classes "
            f"gives {chance:.0%})"
        )
        if self._diverged_in is not None and self._first_loss:
            when = "in the first epoch" if self._diverged_in == 1 else f"in epoch {self._diverged_in}"
            message = (
                f"The loss grew {fold(self._peak / self._first_loss)} {when} and {at}: the learning rate {lr:g} "
                f"is far too high for {optimizer}; try {suggested_rate(optimizer, lr):g}."
            )
        elif lr > 10 * usual:
            message = f"{at[0].upper()}{at[1:]}: {self._advice()}."
        elif lr <= usual / 10:
            message = (
                f"{at[0].upper()}{at[1:]}: the learning rate {lr:g} is too low for {optimizer} to move the weights in "
                f"time; try {usual:g}."
            )
        elif epoch >= 2 and self._token_ids:
            message = (
                f"{at[0].upper()}{at[1:]}: the network is not learning. Check that the labels belong to the texts and "
                "that max_length keeps the words that decide (the text spec's ?max_length=N: too short cuts them "
                "off, too long is mostly padding), read the other diagnoses here, or find a learning rate with "
                "Find LR (torchcanvas lr-find): an embedding often needs a larger one."
            )
        elif epoch >= 2 and self.tokens_as_amounts:
            message = f"{at[0].upper()}{at[1:]}: the network is not learning. {self.tokens_as_amounts}"
        elif epoch >= 2:
            message = (
                f"{at[0].upper()}{at[1:]}: the network is not learning. Check that the labels belong to the inputs and "
                "that the inputs are normalised, read the other diagnoses here, or find a learning rate with "
                "Find LR (torchcanvas lr-find)."
            )
        else:
            return
        self._say("chance", self._step, None, message)

    def _largest_gradient(self) -> str | None:
        """The node with the largest (or a non-finite) gradient at a NaN batch: where the blow-up shows."""
        norms = []
        for name, params in self._layers:
            grads = [torch.linalg.vector_norm(p.grad) for p in params if p.grad is not None]
            if grads:
                value = float(torch.stack(grads).double().square().sum().sqrt())
                norms.append((math.inf if not math.isfinite(value) else value, name))
        return label(max(norms)[1], self.nodes) if norms else None

    def _diagnose_layers(self) -> None:
        for finding in layer_findings(self.samples):
            self._say(*finding)
