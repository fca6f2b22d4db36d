"""Random draws from a private generator, for work the window does in its threads while a run may be training in
another: torch's random generator is one for the whole process, and a run draws its dropout masks, augmentations
and shuffles from it. Seeding it, drawing from it, or ``torch.random.fork_rng`` (which seeds it and puts its state
back afterwards) in another thread changes the numbers the run draws at that moment, so its losses are no longer
those of the CLI and the exported script. Torch function modes are per thread: inside ``OwnGenerator`` this
thread's random calls take ``generator=`` and every other thread keeps the global generator, undisturbed."""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

RANDOM_CALLS = frozenset(
    {
        # torch functions and Tensor methods that draw random numbers and take ``generator=`` (since torch 2.4;
        # rand_like and its siblings took it only later, so they are not here and draw from the global one)
        *("rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson"),
        *("uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_", "log_normal_", "cauchy_"),
        # torch.nn.init, which layers' reset_parameters use
        *("trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_"),
        *("orthogonal_", "sparse_"),
    }
)


class OwnGenerator(TorchFunctionMode):
    """Every random draw of ``RANDOM_CALLS`` made in this thread while active comes from ``generator`` (a call that
    names its own generator keeps it). A draw without a ``generator=`` argument (dropout, ``rand_like``) is not
    redirected: code run inside must not make one."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = dict(kwargs or {})
        if getattr(func, "__name__", "") in RANDOM_CALLS and kwargs.get("generator") is None:
            kwargs["generator"] = self.generator
        return func(*args, **kwargs)


def seeded(seed: int) -> OwnGenerator:
    """Draws from a private CPU generator seeded with ``seed``: the numbers ``torch.manual_seed(seed)`` then the
    same calls give (both are the CPU's Mersenne Twister from that seed), the global generator left as it is."""
    return OwnGenerator(torch.Generator().manual_seed(int(seed)))
