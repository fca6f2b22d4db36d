"""The drawn 2-D point sets (spirals, moons, circles, xor, blobs), pasted verbatim into
exported scripts (see core/portable/__init__.py): the app draws a set with
``make_points``; a script pastes only its own set's function and ``point_arrays``.
Each is drawn from the seed, so a run and its script see the same points.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def make_points(
    kind: str, samples: int, noise: float, classes: int, seed: int
) -> tuple:
    """Generated 2-D point sets: spirals, moons, circles, xor, blobs (the
    script pastes only its own set's function)."""
    if kind == "spirals":
        return spiral_points(samples, noise, classes, seed)
    if kind == "blobs":
        return blob_points(samples, noise, classes, seed)
    two = {"moons": moon_points, "circles": circle_points, "xor": xor_points}
    if kind not in two:
        raise ValueError(f"unknown point set {kind!r}")
    return two[kind](samples, noise, seed)


def spiral_points(samples: int, noise: float, classes: int, seed: int) -> tuple:
    """Interleaved spiral arms, one a class, drawn from the seed."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % classes
    t = rng.random(samples)
    angle = t * 4.0 + labels * (2 * math.pi / classes)
    angle = angle + rng.normal(0.0, noise, samples)
    points = np.stack([t * np.sin(angle), t * np.cos(angle)], axis=1)
    return point_arrays(points, labels, classes)


def moon_points(samples: int, noise: float, seed: int) -> tuple:
    """Two interleaved half circles, drawn from the seed."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % 2
    angle = rng.random(samples) * math.pi
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    points = np.where(labels[:, None] == 0, upper, lower)
    points = points + rng.normal(0.0, noise, (samples, 2))
    return point_arrays(points, labels, 2)


def circle_points(samples: int, noise: float, seed: int) -> tuple:
    """A circle inside another, drawn from the seed."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % 2
    angle = rng.random(samples) * 2 * math.pi
    radius = np.where(labels == 0, 1.0, 0.5)[:, None]
    points = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points = points + rng.normal(0.0, noise, (samples, 2))
    return point_arrays(points, labels, 2)


def xor_points(samples: int, noise: float, seed: int) -> tuple:
    """Points in a square, the class the sign of x times y, drawn from the seed."""
    rng = np.random.default_rng(seed)
    rng.random(samples)  # a draw the other sets use: the same points as ever
    points = rng.uniform(-1.0, 1.0, (samples, 2))
    labels = (points[:, 0] * points[:, 1] < 0).astype(np.int64)
    points = points + rng.normal(0.0, noise, (samples, 2))
    return point_arrays(points, labels, 2)


def blob_points(samples: int, noise: float, classes: int, seed: int) -> tuple:
    """Round clouds of points around a circle, one a class, drawn from the seed."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % classes
    rng.random(samples)  # a draw the other sets use: the same points as ever
    angle = labels * (2 * math.pi / classes)
    centres = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points = centres + rng.normal(0.0, 0.5 + noise, (samples, 2))
    return point_arrays(points, labels, classes)


def point_arrays(points: np.ndarray, labels: np.ndarray, classes: int) -> tuple:
    """The five arrays of a point set: no test split of its own."""
    x = torch.tensor(points, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.int64)
    return x, y, None, None, [f"class {k}" for k in range(classes)]
