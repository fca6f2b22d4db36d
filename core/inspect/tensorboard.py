"""TensorBoard beside a run: each layer's weights and gradients as histograms, with the batch loss, in the run
folder's ``tensorboard/`` (``tensorboard --logdir RUN/tensorboard`` shows them).

``TensorBoardWatcher`` is a ``core.training.watch.Watcher``. Histograms copy every weight to the CPU and bin it, so
they are written at batch 1, every ``every`` batches and at the end of each epoch (a short run still gets one per
epoch). The batch loss is a float already on the CPU, but one ``add_scalar`` costs about 0.1 ms (a protobuf record
queued to the writer's thread; 142 us on the loaded 2-core build machine), a quarter of a small network's step: it
is written at batch 1, every ``loss_every`` (10) batches and at each epoch's end, so a 2-epoch run's batch-loss curve
has points all along it (one point per 100 batches gave a short run one point). The epoch's figures (loss, accuracy,
their validation twins, the rate) are the run folder's own (``core.training.run_folder`` writes them wherever
tensorboard is installed); this watcher's file sits beside that one (its name ends in ``.layers``) and TensorBoard
reads the folder as one run. An event file is a log that its writer appends to while the run goes on, so it is not
written through the atomic writer (a run stopped halfway leaves a readable file up to its last record). It needs the
``tensorboard`` package, an optional extra: ``available()`` says whether it is there and ``INSTALL`` what to do when
it is not.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.inspect.nodes import InspectError
from core.training.watch import Watcher

if TYPE_CHECKING:
    import torch

INSTALL = 'TensorBoard is not installed; to write its histograms: pip install "torchcanvas[tensorboard]"'
FOLDER = "tensorboard"
BINS = 64  # fixed bins: a quarter of the time of TensorBoard's default ("tensorflow": ~1,500 bucket edges)


def available() -> bool:
    """Whether ``torch.utils.tensorboard`` can write (it needs the ``tensorboard`` package)."""
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardWatcher(Watcher):
    """Writes the run's scalars and histograms into ``<run folder>/tensorboard``; a run that saves nothing
    (no run folder) gets nothing written."""

    def __init__(self, every: int = 100, loss_every: int = 10) -> None:
        if not available():
            raise InspectError(INSTALL)
        self.every = max(1, every)
        self.loss_every = max(1, loss_every)
        self.folder: Path | None = None  # where the event file goes, once the run folder is known
        self.histograms = 0  # the steps written (the bench and the tests count them)
        self._writer: Any = None
        self._model: torch.nn.Module | None = None
        self._step = 0
        self._written = 0  # the last step with histograms
        self._loss = (0, 0.0)  # the last batch's step and loss
        self._loss_written = 0  # the last step with its batch loss

    def attach_folder(self, folder: Path | None) -> None:
        self.folder = folder / FOLDER if folder is not None else None

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        if self.folder is None:
            return
        # deferred: imports torch (and tensorboard); the window paints without it
        from torch.utils.tensorboard import SummaryWriter

        self._model = model
        self._writer = SummaryWriter(log_dir=str(self.folder), filename_suffix=".layers")

    def after_batch(self, step: int, loss: float) -> None:
        self._step, self._loss = step, (step, loss)
        if self._writer is None:
            return
        if step == 1 or step % self.loss_every == 0:
            self._batch_loss()
        if step == 1 or step % self.every == 0:
            self._histograms(step)

    def after_epoch(self, epoch: int, metrics: Mapping[str, float | None]) -> None:
        if self._writer is None:
            return
        if self._loss_written != self._step:
            self._batch_loss()
        if self._written != self._step:
            self._histograms(self._step)
        self._writer.flush()

    def detach(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer, self._model = None, None

    def _batch_loss(self) -> None:
        step, loss = self._loss
        self._writer.add_scalar("batch/loss", loss, step)
        self._loss_written = step

    def _histograms(self, step: int) -> None:
        """One histogram of each trainable parameter's weights and one of its gradient (where it has one)."""
        assert self._model is not None
        for name, param in self._model.named_parameters():
            if not param.requires_grad:
                continue
            values = param.detach()
            if bool(values.isfinite().all()):  # TensorBoard refuses a histogram with NaN or inf in it
                self._writer.add_histogram(f"weights/{name}", values, step, bins=BINS)
            if param.grad is not None and bool(param.grad.isfinite().all()):
                self._writer.add_histogram(f"gradients/{name}", param.grad.detach(), step, bins=BINS)
        self._written = step
        self.histograms += 1
