"""The TransformerEncoderStack class the generated file defines for a TransformerEncoder node, written with only the
options the network's encoders set.

Apart from the attention kinds because it is generated code with variants, not a layer kind: the kind holds the
full class (``TRANSFORMER_ENCODER``) and ``core.model.catalog`` asks ``encoder_stack_for`` for the lines a file
needs (through ``kinds.attention.SPECIALISED_HELPERS``). The class is an ``nn.TransformerEncoder``, so torch's
state_dict keys stay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_STACK_INIT = """
class TransformerEncoderStack(nn.TransformerEncoder):
    \"\"\"num_layers batch-first nn.TransformerEncoderLayer(d_model, nhead, **options){doc}\"\"\"

{signature}
        layer = nn.TransformerEncoderLayer(d_model, nhead, batch_first=True, **options)
"""

_FINAL_NORM = """
        norm = None
        if final_norm:
            eps = options.get("layer_norm_eps", 1e-5)
            norm = nn.LayerNorm(d_model, eps=eps, bias=options.get("bias", True))
        super().__init__(layer, num_layers, norm=norm, enable_nested_tensor=False)
"""

_CAUSAL_FORWARD = """
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.causal:
            return super().forward(x)
        steps = x.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(steps, device=x.device)
        return super().forward(x, mask=mask, is_causal=True)
"""


def encoder_stack(final_norm: bool, causal: bool) -> str:
    """The stack's class with only the options a network sets: most encoders set neither, and a beginner reading
    the file should not read a LayerNorm branch and a masked forward that never run (issue 24). Both set, it is
    the class ``LayerSpec.helper`` holds, which accepts every parameter of the kind."""
    doc = (
        ";\n    final_norm: a LayerNorm after the last layer (as nn.Transformer's encoder has)" if final_norm else ""
    ) + (";\n    causal: each step attends only to itself and the steps before it." if causal else "")
    extras = [name for name, used in (("final_norm", final_norm), ("causal", causal)) if used]
    if extras:
        names = ("d_model: int", "nhead: int", "num_layers: int", *(f"{n}: bool = False" for n in extras), "**options")
        signature = "\n".join(
            ["    def __init__(", "        self,", *(f"        {n}," for n in names), "    ) -> None:"]
        )
    else:
        signature = "    def __init__(self, d_model: int, nhead: int, num_layers: int, **options) -> None:"
    text = _STACK_INIT.format(doc=doc + ("" if causal else "."), signature=signature)
    if final_norm:
        text += _FINAL_NORM.lstrip("\n")
    else:
        text += "        super().__init__(layer, num_layers, enable_nested_tensor=False)\n"
    if causal:
        text += "        self.causal = causal\n" + _CAUSAL_FORWARD
    return text


def encoder_stack_for(params: Iterable[Mapping[str, Any]]) -> str:
    """The stack's class for the parameters of the network's encoder nodes: an option one of them sets (a block
    argument standing for it counts as set) brings its lines."""
    used = list(params)
    return encoder_stack(*(any(p.get(name) not in (None, False) for p in used) for name in ("final_norm", "causal")))


TRANSFORMER_ENCODER = encoder_stack(final_norm=True, causal=True)
