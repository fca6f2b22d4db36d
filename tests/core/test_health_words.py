"""The health diagnoses' sentences (core.inspect.diagnoses), read as a user reads them."""

from __future__ import annotations

from core.inspect.diagnoses import HealthSample, LayerHealth, layer_findings, times


def _sample(step: int, first: float) -> HealthSample:
    rows = [LayerHealth("linear0", "n3", grad_norm=first), LayerHealth("head", "n9", grad_norm=0.5)]
    return HealthSample(step, 2.3, 2.3, rows)


def test_the_vanishing_gradient_diagnosis_reads_as_a_sentence_with_the_ratio_in_words() -> None:
    """Trial 5 J10g: it read "linear0's gradients are 1e-10 and falling, 2e-10 of head's", a product where a
    ratio was meant."""
    found = layer_findings([_sample(10, 2e-10), _sample(20, 1e-10)])
    assert [(kind, node) for kind, _, node, _ in found] == [("vanishing", "linear0")]
    message = found[0][3]
    said = "linear0's gradients are 1e-10 and falling, while head's are 0.5: 5 billion times smaller."
    assert message.startswith(said), message
    assert "of head's" not in message and "vanishing gradients" in message and "BatchNorm" in message


def test_a_ratio_is_said_in_words_rounded_to_two_figures() -> None:
    assert [times(r) for r in (3.0, 312, 2e4, 999_999, 5.3e9, 4e15)] == [
        "3 times",
        "310 times",
        "20 thousand times",
        "1 million times",
        "5.3 billion times",
        "4,000 trillion times",
    ]
