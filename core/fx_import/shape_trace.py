"""Tracing again, with shapes, when the plain trace fails on shape arithmetic Python itself must compute
(``int(x.size(1) * self.ratio)``, ``for _ in range(x.size(2))``) or on where a value lives (``x.is_cuda``):
each traced value carries a fake tensor of its shape, so ``x.size(d)`` and ``x.shape[d]`` are numbers for every
dimension after the batch, as they are for the one input shape an import is made for. The batch size stays a
traced value (``x.size(0)``), so ``x.view(x.size(0), -1)`` still means any batch.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import fx, nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx._symbolic_trace import _orig_module_call
from torch.fx.node import map_aggregate


class ShapeProxy(fx.Proxy):
    fake: Any = None  # the fake tensor of this value (or the batch size's number), None when unknown

    def size(self, dim: int | None = None) -> Any:
        if not isinstance(self.fake, torch.Tensor):
            return self.tracer.create_proxy("call_method", "size", (self,) if dim is None else (self, dim), {})
        if dim is None:
            return self.shape
        return self._batch() if dim % self.fake.dim() == self._at() else int(self.fake.shape[dim])

    @property
    def shape(self) -> Any:
        if not isinstance(self.fake, torch.Tensor):
            return self.tracer.create_proxy("call_function", getattr, (self, "shape"), {})
        dims: list[Any] = [int(d) for d in self.fake.shape]
        if len(dims) > self._at():
            dims[self._at()] = self._batch()
        return tuple(dims)

    def __len__(self) -> int:
        """len(x): for a time-first model (``batch_dim`` 1) its steps, a number; else the batch (refused)."""
        if isinstance(self.fake, torch.Tensor) and self._at() == 1:
            return int(self.fake.shape[0])
        return super().__len__()  # type: ignore[no-any-return]

    def _at(self) -> int:
        return int(getattr(self.tracer, "batch_dim", 0))

    def dim(self) -> Any:
        if not isinstance(self.fake, torch.Tensor):
            return self.tracer.create_proxy("call_method", "dim", (self,), {})
        return self.fake.dim()

    # Where the value lives is no value of the data: the drawing is the model as it runs on the CPU (a branch
    # that spreads the work over GPUs, ``if x.is_cuda and self.ngpu > 1``, is not drawn), and the import says so.
    @property
    def is_cuda(self) -> bool:
        return self._on_cpu("is_cuda", False)

    @property
    def is_xpu(self) -> bool:
        return self._on_cpu("is_xpu", False)

    @property
    def is_mps(self) -> bool:
        return self._on_cpu("is_mps", False)

    @property
    def is_cpu(self) -> bool:
        return self._on_cpu("is_cpu", True)

    def _on_cpu(self, name: str, value: bool) -> bool:
        self.tracer.device_reads.add(f"`.{name}` as {value}")  # type: ignore[attr-defined]
        return value

    def _batch(self) -> Any:
        return self.tracer.create_proxy("call_method", "size", (self, self._at()), {})


def shape_tracer(
    base: type[fx.Tracer], module: nn.Module, samples: list[torch.Tensor], fixed: set[str], batch_dim: int = 0
) -> Any:
    """A ``base`` tracer (the importer's, which keeps layers whole) whose values carry fake tensors; the batch is
    dimension ``batch_dim`` (1 for a model that reads its sequences time first)."""
    names = [n for n in inspect.signature(module.forward).parameters]

    class ShapeTracer(base):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            super().__init__()
            self.mode = FakeTensorMode(allow_non_fake_inputs=True)
            self.seen = self.inputs = 0
            self.computing = False
            self.device_reads: set[str] = set()
            self.batch_dim = batch_dim

        def getattr(self, attr: str, attr_val: Any, cache: dict[str, Any]) -> Any:
            if self.computing:  # a module's own weights while its fake output is computed, not traced ones
                return attr_val
            return super().getattr(attr, attr_val, cache)

        def proxy(self, node: fx.Node) -> fx.Proxy:
            return ShapeProxy(node, self)

        def create_proxy(self, kind: str, target: Any, args: Any, kwargs: Any, *rest: Any, **more: Any) -> Any:
            made = super().create_proxy(kind, target, args, kwargs, *rest, **more)
            if isinstance(made, ShapeProxy):
                try:
                    made.fake = self._fake(kind, target, args, kwargs)
                except Exception:  # no shape for this value: it stays a plain traced value
                    made.fake = None
            return made

        def _fake(self, kind: str, target: Any, args: Any, kwargs: Any) -> Any:
            if kind == "placeholder":
                name = names[self.seen] if self.seen < len(names) else ""
                self.seen += 1
                if name in fixed or self.inputs >= len(samples):
                    return None
                self.inputs += 1
                return self.mode.from_tensor(samples[self.inputs - 1])
            missing = []

            def fake(value: Any) -> Any:
                if isinstance(value, ShapeProxy):
                    if value.fake is None:
                        missing.append(value)
                    return value.fake
                return value

            args, kwargs = map_aggregate(args, fake), map_aggregate(kwargs, fake)
            if missing:
                return None
            self.computing = True
            try:
                return self._run(kind, target, args, kwargs)
            finally:
                self.computing = False

        def _run(self, kind: str, target: Any, args: Any, kwargs: Any) -> Any:
            with self.mode, torch.no_grad():
                if kind == "call_function":
                    out = target(*args, **kwargs)
                elif kind == "call_method":
                    out = getattr(args[0], target)(*args[1:], **kwargs)
                elif kind == "call_module":  # torch's own Module.__call__: fx has replaced it while tracing
                    layer = self.root.get_submodule(target)
                    if isinstance(layer, nn.Embedding) and args and args[0].is_floating_point():
                        args = (args[0].long(), *args[1:])  # token ids traced before their dtype is known
                    out = _orig_module_call(layer, *args, **kwargs)
                elif kind == "get_attr":
                    owner, _, attr = str(target).rpartition(".")
                    out = self.mode.from_tensor(getattr(self.root.get_submodule(owner), attr))
                else:
                    return None
            return out if isinstance(out, (torch.Tensor, int)) else None  # an int: the batch size, x.size(0)

    return ShapeTracer()
