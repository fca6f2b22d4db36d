"""A helper thread's torch work (the layer output view, Try it, the why view, the transfer preview) runs on one
core, so that a run in the window keeps the process's only OpenMP team (``gui.training.cores`` says why a second
team makes the run's OpenMP worker sleep between ops instead of spinning).

OpenMP gives every thread that runs a parallel op a team of its own, kept until that thread ends: the layer output
view's thread never ends, so after its first output the window trained with two teams for good. A thread whose
torch ops run on one thread makes no team. ``torch.set_num_threads`` also sets the count every thread started later
begins with (the GUI thread too, if it has not run a torch op yet), so the count torch chose for this machine is
read first and kept here: it is what a run's thread uses (``gui.training.cores.training_threads``).
"""

from __future__ import annotations

_default: list[int] = []


def default_threads() -> int:
    """How many threads torch chose for one op on this machine, read before any thread was put on one core."""
    if not _default:
        import torch  # deferred for start-up: an idle window imports no torch

        _default.append(torch.get_num_threads())
    return _default[0]


def one_core_in_this_thread() -> None:
    """At the start of a helper thread's torch work: its ops run on one core and make no OpenMP team."""
    import torch  # deferred for start-up, as above

    default_threads()
    torch.set_num_threads(1)
