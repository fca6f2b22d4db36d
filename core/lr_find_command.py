"""``torchcanvas lr-find PROJECT``: the learning-rate range test (core.inspect.lr_find) from the command line:
a few points of the curve and the suggested rate, and with ``--csv`` the whole curve for a plot."""

from __future__ import annotations

import argparse

from core.cli import command
from core.datasets.spec import HELP  # cli imports this module only for `torchcanvas lr-find`, whose parser needs it

SHOWN = 12  # points of the curve printed


def _args(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Find a learning rate: train a copy of the network for up to STEPS batches with the rate rising "
        "exponentially from START to END, stop when the loss diverges, and suggest the rate where the loss fell "
        "fastest (fastai's lr_find); no rate when the loss did not fall at any. The copy starts from the weights "
        "training starts from (an imported or pretrained network's own, else random ones). The project file is "
        "not changed."
    )
    p.add_argument("project", help="project file (.json)")
    p.add_argument("--data", metavar="SPEC", help=f"dataset instead of the project's ({HELP})")
    p.add_argument("--start", type=float, default=1e-7, metavar="LR", help="first rate (default 1e-7)")
    p.add_argument("--end", type=float, default=10.0, metavar="LR", help="last rate (default 10)")
    p.add_argument("--steps", type=int, default=100, metavar="N", help="batches at most, 10 to 10000 (default 100)")
    p.add_argument("--csv", metavar="FILE", help="write the curve (rate, smoothed loss, loss) to FILE")


@command("lr-find", _args)
def run_lr_find(args: argparse.Namespace) -> int:
    # Deferred for start-up: `torchcanvas lr-find --help` answers without loading the model or torch.
    from core.files.fileio import atomic_write_text
    from core.files.project import load
    from core.inspect.lr_find import lr_find
    from core.settings import TrainingSettings

    project = load(args.project)
    if args.data:
        project.training = TrainingSettings.from_dict({**project.training.to_dict(), "dataset": args.data})
    curve = lr_find(project, start=args.start, end=args.end, steps=args.steps, project_path=args.project)
    every = max(1, len(curve.rates) // SHOWN)
    print(f"{'rate':>10}  loss (smoothed)")
    for rate, loss in list(zip(curve.rates, curve.losses))[::every]:
        print(f"{rate:10.2e}  {loss:.4f}")
    if args.csv:
        rows = [
            "rate,smoothed_loss,loss",
            *(f"{r!r},{s!r},{x!r}" for r, s, x in zip(curve.rates, curve.losses, curve.raw)),
        ]
        print(f"Wrote the curve to {atomic_write_text(args.csv, chr(10).join(rows) + chr(10))}.")
    print(curve.message())
    return 0
