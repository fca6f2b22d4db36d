"""The catalog's recurrent entries (LSTM, GRU, RNN): imported by ``core.model.layers``, so they register with
the rest, in palette order."""

from __future__ import annotations

from core.model.catalog import ParamSpec
from core.model.layers import P, _auto, _layer


def _recurrent(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    return (
        _auto("input_size", "Features per time step (filled from the input shape)."),
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


# --- Recurrent ---------------------------------------------------------------------------------------------
_layer(
    "LSTM",
    "Recurrent",
    "Long short-term memory over sequences [N, T, F].",
    *_recurrent(),
    prefix="lstm",
    extra=(("batch_first", True),),
    returns_state=True,
)
_layer(
    "GRU",
    "Recurrent",
    "Gated recurrent unit over sequences [N, T, F].",
    *_recurrent(),
    prefix="gru",
    extra=(("batch_first", True),),
    returns_state=True,
)
_layer(
    "RNN",
    "Recurrent",
    "Plain (Elman) recurrent layer over sequences [N, T, F].",
    *_recurrent((P("nonlinearity", "choice", "tanh", "Activation inside the cell.", choices=("tanh", "relu")),)),
    prefix="rnn",
    extra=(("batch_first", True),),
    returns_state=True,
)
