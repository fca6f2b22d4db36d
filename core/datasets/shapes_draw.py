"""The pixels of the built-in shapes set (``core.datasets.shapes`` registers the source and describes it).

``make_shapes`` is pasted into the exported script word for word, so it reads the module-level ``np`` and
``torch`` the script imports; it lives apart so that describing the set, which the editor does after every edit,
does not import torch.
"""

from __future__ import annotations

import numpy as np
import torch


def make_shapes(samples: int, classes: int, seed: int) -> tuple:
    """Generated 32x32 RGB images (float32 in [0, 1], channels first) of one shape each:
    class k is circle, square, triangle, cross, ring (the first ``classes`` of them)."""
    rng = np.random.default_rng(seed)
    names = ["circle", "square", "triangle", "cross", "ring"][:classes]
    labels = np.arange(samples) % classes
    rng.shuffle(labels)
    radius = rng.uniform(6.0, 12.0, (samples, 1, 1))
    cx = rng.uniform(radius[:, 0, 0], 31.0 - radius[:, 0, 0])[:, None, None]
    cy = rng.uniform(radius[:, 0, 0], 31.0 - radius[:, 0, 0])[:, None, None]
    grid = np.arange(32, dtype=np.float32)
    dx = (grid[None, None, :] - cx) / radius
    dy = (grid[None, :, None] - cy) / radius
    dist = np.sqrt(dx**2 + dy**2)
    ax, ay = np.abs(dx), np.abs(dy)
    masks = [
        dist <= 1.0,  # circle
        np.maximum(ax, ay) <= 0.8,  # square
        (dy <= 0.7) & (ax <= (dy + 1.0) * 0.6),  # triangle, point up
        ((ax <= 0.3) & (ay <= 1.0)) | ((ay <= 0.3) & (ax <= 1.0)),  # cross
        (dist <= 1.0) & (dist >= 0.55),  # ring
    ]
    mask = np.zeros((samples, 32, 32), dtype=bool)
    for k in range(classes):
        mask[labels == k] = masks[k][labels == k]
    dark = rng.uniform(0.0, 0.4, (samples, 3))
    light = rng.uniform(0.6, 1.0, (samples, 3))
    swap = rng.random(samples) < 0.5  # half are dark shapes on a light background
    fg = np.where(swap[:, None], dark, light)
    bg = np.where(swap[:, None], light, dark)
    x = np.where(mask[:, None], fg[:, :, None, None], bg[:, :, None, None])
    x = x + rng.normal(0.0, 0.08, x.shape)
    images = torch.as_tensor(np.clip(x, 0.0, 1.0), dtype=torch.float32)
    return images, torch.as_tensor(labels, dtype=torch.int64), None, None, names
