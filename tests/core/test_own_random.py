"""core.own_random: random draws from a private generator in this thread only. Seeding torch's global generator,
or fork_rng (which seeds it and puts its state back), in a thread of the window changed the numbers a run in
another thread drew at that moment. Each call ``RANDOM_CALLS`` names must take the private generator: one that
did not would still draw from the global one, silently."""

from __future__ import annotations

import threading

import pytest
import torch

from core.own_random import RANDOM_CALLS, OwnGenerator, seeded
from core.portable import steps

CALLS = {
    "rand": lambda: torch.rand(5),
    "randn": lambda: torch.randn(5),
    "randint": lambda: torch.randint(0, 100, (5,)),
    "randperm": lambda: torch.randperm(9),
    "normal": lambda: torch.normal(torch.zeros(5), torch.ones(5)),
    "bernoulli": lambda: torch.bernoulli(torch.full((5,), 0.5)),
    "multinomial": lambda: torch.multinomial(torch.ones(9), 4),
    "poisson": lambda: torch.poisson(torch.full((5,), 3.0)),
    "uniform_": lambda: torch.empty(5).uniform_(),
    "normal_": lambda: torch.empty(5).normal_(),
    "bernoulli_": lambda: torch.empty(5).bernoulli_(0.5),
    "random_": lambda: torch.empty(5).random_(0, 100),
    "exponential_": lambda: torch.empty(5).exponential_(),
    "geometric_": lambda: torch.empty(5).geometric_(0.3),
    "log_normal_": lambda: torch.empty(5).log_normal_(),
    "cauchy_": lambda: torch.empty(5).cauchy_(),
    "trunc_normal_": lambda: torch.nn.init.trunc_normal_(torch.empty(5)),
    "kaiming_uniform_": lambda: torch.nn.init.kaiming_uniform_(torch.empty(3, 4)),
    "kaiming_normal_": lambda: torch.nn.init.kaiming_normal_(torch.empty(3, 4)),
    "xavier_uniform_": lambda: torch.nn.init.xavier_uniform_(torch.empty(3, 4)),
    "xavier_normal_": lambda: torch.nn.init.xavier_normal_(torch.empty(3, 4)),
    "orthogonal_": lambda: torch.nn.init.orthogonal_(torch.empty(3, 4)),
    "sparse_": lambda: torch.nn.init.sparse_(torch.empty(4, 3), 0.5),
}


def a_generator_part_way() -> torch.Tensor:
    torch.manual_seed(1234)
    torch.rand(3)  # part-way through its numbers, not at a seed's start
    return torch.random.get_rng_state()


def the_old_way(seed: int, draw) -> object:
    """What the window did: the global generator seeded inside fork_rng (safe only with no other thread)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return draw()


def test_every_random_call_is_listed_with_a_call_here() -> None:
    assert set(CALLS) == RANDOM_CALLS


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_random_call_draws_the_seeded_numbers_from_the_private_generator(name) -> None:
    before = a_generator_part_way()
    with seeded(5):
        drawn = CALLS[name]()
    assert torch.equal(torch.random.get_rng_state(), before)  # the global generator was not drawn from
    assert torch.equal(drawn, the_old_way(5, CALLS[name]))


def test_a_call_naming_its_own_generator_keeps_it() -> None:
    mine = torch.Generator().manual_seed(9)
    with OwnGenerator(torch.Generator().manual_seed(1)):
        drawn = torch.rand(4, generator=mine)
    assert torch.equal(drawn, torch.rand(4, generator=torch.Generator().manual_seed(9)))


@pytest.mark.parametrize("channels", [1, 3])  # 3: the saturation part of the jitter
def test_augment_with_every_transform_on_draws_only_from_the_private_generator(channels) -> None:
    """Every random call core.portable.steps.augment makes (flip, angle, shift, crop, jitter) takes the generator:
    the global state is unchanged, and the pictures are those the global generator seeded the same way gave."""
    images = torch.rand(6, channels, 12, 12, generator=torch.Generator().manual_seed(3))

    def draw() -> torch.Tensor:
        return steps.augment(images, True, 30.0, 3, crop=0.4, jitter=0.3)

    for seed in (0, 1, 17):
        before = a_generator_part_way()
        with seeded(seed):
            drawn = draw()
        assert torch.equal(torch.random.get_rng_state(), before)
        assert torch.equal(drawn, the_old_way(seed, draw))


def test_draws_in_another_thread_leave_this_threads_numbers_alone() -> None:
    """The mode is per thread: a thread drawing seeded augmentations over and over while this one draws from the
    global generator changes none of this thread's numbers (fork_rng + manual_seed there did)."""
    images = torch.rand(6, 1, 12, 12, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    quiet = [torch.rand(50) for _ in range(300)]
    running, draws = threading.Event(), []

    def over_and_over() -> None:
        while running.is_set():
            with seeded(len(draws)):
                draws.append(steps.augment(images, True, 30.0, 3, crop=0.4, jitter=0.3))

    running.set()
    other = threading.Thread(target=over_and_over, daemon=True)
    other.start()
    try:
        torch.manual_seed(0)
        busy = []
        for _ in range(300):
            busy.append(torch.rand(50))
            if len(busy) % 30 == 0:
                threading.Event().wait(0.002)  # let the other thread draw in between
    finally:
        running.clear()
        other.join(30)
    assert len(draws) > 1
    assert all(torch.equal(a, b) for a, b in zip(quiet, busy, strict=True))
