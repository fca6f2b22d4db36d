"""The schema of a layer kind: its parameters (``ParamSpec``) and what the palette, the inspector and the code
generator read (``LayerSpec``). ``core.model.catalog`` re-exports it with the lookups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import ParameterError

ParamKind = Literal["int", "float", "bool", "choice", "size", "ints"]

CATEGORIES: tuple[str, ...] = (
    "Input",
    "Linear",
    "Convolution",
    "Pooling",
    "Normalization",
    "Dropout",
    "Activation",
    "Shape",
    "Recurrent",
    "Attention",
    "Merge",
    "Output",
)

DOCS = "https://pytorch.org/docs/stable/generated/"


@dataclass(frozen=True)
class ParamSpec:
    """One constructor parameter: how to edit it, check it and emit it."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()  # for "choice"; for "size": named values allowed besides numbers ("same")
    optional: bool = False  # None is allowed (e.g. MaxPool stride defaults to the kernel size)
    auto: bool = False  # filled from the incoming shape unless the user pins a value
    positional: bool = False  # emitted positionally in the generated constructor call
    codegen: bool = True  # False: a TorchCanvas setting, not a torch argument
    always: bool = False  # emitted as a keyword even when equal to the default (readability, or torch differs)
    dims: int = 0  # for "size": how many numbers a tuple holds (2 for Conv2d kernels)

    def validate(self, value: Any) -> Any:
        """Return the value normalised to its canonical JSON-able form, or raise ParameterError."""
        if value is None:
            if self.optional:
                return None
            raise ParameterError(f"{self.name} needs a value")
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{self.name} must be true or false, not {value!r}")
            return value
        if kind == "int":
            return self._check_range(_as_int(self.name, value))
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{self.name} must be a number, not {value!r}")
            number = float(value)
            if not math.isfinite(number):
                raise ParameterError(f"{self.name} must be a finite number, not {value!r}")
            return self._check_range(number)
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(self.choices)
                raise ParameterError(f"{self.name} must be one of {options}, not {value!r}")
            return value
        if kind == "size":
            if isinstance(value, str) and value in self.choices:  # a named size, e.g. padding "same"
                return value
            if isinstance(value, (list, tuple)):
                if len(value) != self.dims:
                    raise ParameterError(f"{self.name} must be one number or {self.dims} numbers, not {value!r}")
                items = [self._check_range(_as_int(self.name, v)) for v in value]
                return items[0] if len(set(items)) == 1 else items
            return self._check_range(_as_int(self.name, value))
        if kind == "ints":
            if not isinstance(value, (list, tuple)) or not value:
                raise ParameterError(f"{self.name} must be a list of whole numbers, e.g. [1, 28, 28]")
            if len(value) > 8:
                raise ParameterError(f"{self.name} may hold at most 8 numbers")
            return [self._check_range(_as_int(self.name, v)) for v in value]
        raise ParameterError(f"{self.name} has an unknown kind {kind!r}")  # pragma: no cover

    def _check_range(self, value: Any) -> Any:
        if self.min is not None and value < self.min:
            raise ParameterError(f"{self.name} must be at least {_num(self.min)}, not {value}")
        if self.max is not None and value > self.max:
            raise ParameterError(f"{self.name} must be at most {_num(self.max)}, not {value}")
        return value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ParameterError(f"{name} must be a whole number, not {value!r}")
    number = int(value)
    if abs(number) > 2**31:
        raise ParameterError(f"{name} is too large: {value!r}")
    return number


@dataclass(frozen=True)
class LayerSpec:
    """A layer kind: what the palette shows, what the inspector edits and what the code generator emits."""

    id: str
    display: str
    category: str
    help: str
    torch_class: str | None  # e.g. "nn.Linear"; None where the forward line is plain tensor code
    params: tuple[ParamSpec, ...] = ()
    inputs: int = 1  # input ports; merges read their count from the num_inputs parameter
    outputs: int = 1
    name_prefix: str = "layer"
    doc_url: str = ""
    extra_args: tuple[tuple[str, Any], ...] = ()  # fixed keyword arguments, e.g. batch_first=True
    # The forward line of a layer without a torch class, as a ``str.format`` template. Names it can use: ``x`` (the
    # first input), ``args`` (all inputs, comma-separated), ``sum`` / ``product`` (inputs joined by + / *), and each
    # parameter by name (a list parameter reads as its comma-separated items).
    forward_template: str = ""
    returns_state: bool = False  # the module returns (output, state): the forward line unpacks it (LSTM, GRU, RNN)
    accepts_tokens: bool = False  # may receive whole-number token ids (int64) (Embedding; Input makes them)
    dtype_neutral: bool = False  # passes its input's dtype through (shape-only layers, merges, Output)
    # Source of a small module class the generated file defines when the layer is used (``torch_class`` names it):
    # for layers torch has no class for, such as a learned positional embedding.
    helper: str = ""

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.id} has no parameter {name!r}")

    def has_param(self, name: str) -> bool:
        return any(spec.name == name for spec in self.params)

    def defaults(self) -> dict[str, Any]:
        """Defaults of the parameters a user sets by hand (auto parameters are inferred instead)."""
        return {p.name: p.default for p in self.params if not p.auto}

    def input_count(self, params: dict[str, Any]) -> int:
        if self.has_param("num_inputs"):
            value = params.get("num_inputs", self.param("num_inputs").default)
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else self.inputs
        return self.inputs
