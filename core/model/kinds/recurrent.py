"""Recurrent layers over sequences [N, T, F]: LSTM, GRU and the plain RNN. The module returns (output, state);
the generated forward line unpacks it and, with return_sequences "last", keeps the last step."""

from __future__ import annotations

from typing import Any

from core.model.kinds.keras import KerasLayer, bias
from core.model.kinds.kind import LayerKind, NotImportable, P, auto, kind
from core.model.kinds.shapes import RuleContext, Shape, fmt
from core.model.kinds.spec import ParamSpec
from core.model.literal import literal


def _params(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    return (
        auto("input_size", "Features per time step (filled from the input shape)."),
        P("hidden_size", "int", 128, "Size of the hidden state.", min=1, positional=True),
        P("num_layers", "int", 1, "Recurrent layers stacked on top of each other.", min=1, max=16),
        *extra,
        P("bias", "bool", True, "Use bias weights."),
        P("dropout", "float", 0.0, "Dropout between stacked layers (needs num_layers > 1).", min=0.0, max=1.0),
        P("bidirectional", "bool", False, "Also read the sequence backwards; doubles the output features."),
        P(
            "return_sequences",
            "choice",
            "last",
            "Return only the last time step [N, H] or the full sequence [N, T, H].",
            choices=("last", "sequence"),
            codegen=False,
        ),
    )


def _rule(ctx: RuleContext) -> Shape:
    x = ctx.need_rank(
        (3,), "sequences [N, T, features]", "set the Input shape to [steps, features], or add a Reshape before it"
    )
    expected = ctx.auto("input_size", x[-1])
    if expected != x[-1]:
        raise ctx.fail(
            f"{ctx.name} expects {expected} features per step but receives {fmt(x)}: "
            f"set input_size to {x[-1]}, or unpin it"
        )
    p = ctx.params
    if p["dropout"] and p["num_layers"] < 2:
        raise ctx.fail(
            f"{ctx.name}: dropout only acts between stacked layers: set num_layers to 2 or more, or set dropout to 0"
        )
    hidden = p["hidden_size"] * (2 if p["bidirectional"] else 1)
    if p["return_sequences"] == "last":
        return (x[0], hidden)
    return (x[0], x[1], hidden)


def recurrent_count(gates: int, p: dict[str, Any]) -> int:
    """Weights of ``gates`` gates per cell (LSTM 4, GRU 3, RNN 1), two bias vectors each, per layer and direction."""
    hidden = p["hidden_size"]
    directions = 2 if p["bidirectional"] else 1
    total = 0
    for i in range(p["num_layers"]):
        size_in = p["input_size"] if i == 0 else hidden * directions
        per_direction = gates * hidden * (size_in + hidden) + (2 * gates * hidden if p["bias"] else 0)
        total += per_direction * directions
    return total


def recurrent_layers(p: dict[str, Any], head: str, extra_bias: int, rnn: bool = False) -> list[KerasLayer]:
    """One Keras layer per stacked PyTorch layer (Dropout between them, as PyTorch's ``dropout``).
    PyTorch's LSTM and RNN cells have two bias vectors (input and hidden), Keras' one (``extra_bias``: the
    vectors Keras lacks per hidden unit); GRU's ``reset_after=True`` (Keras' default) matches PyTorch's two."""
    hidden, count = int(p["hidden_size"]), int(p.get("num_layers", 1))
    directions = 2 if p.get("bidirectional") else 1
    fewer = extra_bias * hidden * directions if p.get("bias", True) else 0
    note = f"one bias vector in Keras, two in PyTorch: {fewer} fewer parameters" if fewer else ""
    out: list[KerasLayer] = []
    for i in range(count):
        last = i == count - 1
        sequences = not last or p.get("return_sequences") == "sequence"
        args = [literal(hidden), *(["return_sequences=True"] if sequences else []), *bias(p)]
        if rnn:
            args.insert(1, f'activation="{p.get("nonlinearity", "tanh")}"')
        suffix = f"_{i + 1}" if count > 1 else ""
        if directions == 2:
            inner = f"{head}({', '.join(args)})"
            bi_note = "the backward half's 'last' output has read the whole sequence (PyTorch: only the last step)"
            layer = KerasLayer(
                "layers.Bidirectional", (inner,), "; ".join(n for n in (note, bi_note) if n), suffix, fewer
            )
        else:
            layer = KerasLayer(head, tuple(args), note, suffix, fewer)
        out.append(layer)
        if not last and float(p.get("dropout", 0.0)):
            out.append(KerasLayer("layers.Dropout", (literal(float(p["dropout"])),), suffix=f"_drop{i + 1}"))
    return out


def _from_torch(m: Any) -> dict[str, Any]:
    """An nn.LSTM / GRU / RNN's settings; ``return_sequences`` is how forward uses the output (the importer's
    ``core.fx_import.recurrent``). Sequence-first and projected LSTMs have no canvas form."""
    name = type(m).__name__
    if not m.batch_first:
        raise NotImportable(
            f"built without batch_first=True, it reads [steps, batch, features], while a drawing's {name} reads "
            f"[batch, steps, features]: build it with nn.{name}(..., batch_first=True) and give it the sequence "
            "batch first"
        )
    if getattr(m, "proj_size", 0):
        raise NotImportable(f"an nn.{name} with proj_size is not a TorchCanvas layer: leave proj_size at 0")
    params: dict[str, Any] = {
        "hidden_size": int(m.hidden_size),
        "num_layers": int(m.num_layers),
        "bias": bool(m.bias),
        "dropout": float(m.dropout),
        "bidirectional": bool(m.bidirectional),
    }
    if name == "RNN":
        params["nonlinearity"] = str(m.nonlinearity)
    return params


def _recurrent(id: str, help: str, gates: int, keras_head: str, extra_bias: int, *extra: ParamSpec) -> LayerKind:
    rnn = id == "RNN"  # the one with a choice of activation
    return kind(
        id,
        "Recurrent",
        help,
        *_params(extra),
        rule=_rule,
        count=lambda p: recurrent_count(gates, p),
        from_torch=_from_torch,
        keras=lambda info: recurrent_layers(info.params, keras_head, extra_bias, rnn),
        prefix=id.lower(),
        extra=(("batch_first", True),),
        returns_state=True,
        memory="kept",  # the backward pass reads the output (cuDNN's for all three, the CPU's for LSTM)
    )


KINDS = (
    _recurrent("LSTM", "Long short-term memory over sequences [N, T, F].", 4, "layers.LSTM", 4),
    _recurrent("GRU", "Gated recurrent unit over sequences [N, T, F].", 3, "layers.GRU", 0),
    _recurrent(
        "RNN",
        "Plain (Elman) recurrent layer over sequences [N, T, F].",
        1,
        "layers.SimpleRNN",
        1,
        P("nonlinearity", "choice", "tanh", "Activation inside the cell.", choices=("tanh", "relu")),
    ),
)
