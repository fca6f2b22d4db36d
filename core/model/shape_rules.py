"""How each layer kind transforms tensor shapes, and how many parameters it holds: views of the kinds.

Each kind's rule and count live beside its catalog entry in its family module (``core.model.kinds.conv`` ...);
``RULES`` and ``PARAM_COUNTS`` are derived from ``core.model.kinds.KINDS``, and what a rule sees of a node
(``RuleContext``) with the shared helpers is ``core.model.kinds.shapes``, re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.model.kinds import param_counts, rules
from core.model.kinds.shapes import RuleContext, Shape, fmt, numel

__all__ = ["PARAM_COUNTS", "RULES", "RuleContext", "Shape", "fmt", "numel"]

RULES: dict[str, Callable[[RuleContext], Shape]] = rules()
PARAM_COUNTS: dict[str, Callable[[dict[str, Any]], int]] = param_counts()
