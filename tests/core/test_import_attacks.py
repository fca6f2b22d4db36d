"""Import given hostile or mistaken input: --args nested 100,000 deep, a wrong argument count for the user's class,
and weights whose outputs are NaN. Each gets a plain message that names the cause, never a traceback or a
false "equal"."""

from __future__ import annotations

import pytest

from core.cli import main
from core.fx_import.source import load_source, parse_args
from core.fx_import.trace import ModelImportError

TINY = '''from torch import nn


class Helper:
    pass


class Tiny(nn.Module):
    """Two layers; the hidden size must be given."""

    def __init__(self, hidden, classes=3):
        super().__init__()
        self.fc = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.out(self.fc(x))
'''
TINY_LINE = 8  # where ``class Tiny`` is


def _import(tmp_path, *extra: str) -> int:
    source = tmp_path / "tiny.py"
    source.write_text(TINY, encoding="utf-8")
    argv = ["import", f"{source}:Tiny", "-o", str(tmp_path / "net.json"), "--input-shape", "2", *extra]
    return main(argv)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000])
def test_args_nested_100000_deep_is_refused_plainly(tmp_path, capsys, text):
    with pytest.raises(ModelImportError, match="--args is nested too deeply"):
        parse_args(text)
    assert _import(tmp_path, "--args", text) == 1
    err = capsys.readouterr().err
    assert "--args is nested too deeply" in err and "RecursionError" not in err and "a bug" not in err


def test_args_nested_just_too_deep_for_later_messages_is_refused_too():
    with pytest.raises(ModelImportError, match="nested too deeply"):
        parse_args("[" * 900 + "]" * 900)  # json reads it; printing it in a message would overflow later
    assert parse_args('[[1, 2], {"k": [3]}]') == [[1, 2], {"k": [3]}]


@pytest.mark.parametrize(
    ("args", "given", "why"),
    [
        (None, "without --args", "missing a required argument: 'hidden'"),
        ("[1, 2, 3]", "with --args [1, 2, 3]", "too many positional arguments"),
        ('{"hid": 3}', 'with --args {"hid": 3}', "missing a required argument: 'hidden'"),
    ],
)
def test_a_wrong_argument_count_names_the_users_file_class_signature_and_line(tmp_path, capsys, args, given, why):
    source = tmp_path / "tiny.py"
    assert _import(tmp_path, *(["--args", args] if args else [])) == 1
    err = capsys.readouterr().err
    assert f"{source}:{TINY_LINE}: class Tiny takes Tiny(hidden, classes=3); {given}: {why}." in err, err
    assert "source.py" not in err and "Traceback" not in err  # never TorchCanvas's own line
    with pytest.raises(ModelImportError, match=r"takes Tiny\(hidden, classes=3\)"):
        load_source(f"{source}:Tiny", parse_args(args))


def test_right_arguments_still_import(tmp_path, capsys):
    assert _import(tmp_path, "--args", '{"hidden": 4}') == 0
    assert "Outputs equal the original's" in capsys.readouterr().out


# --- 4. outputs that cannot be compared ----------------------------------------------------------------------------
def _weights(tmp_path, value: float):
    from pathlib import Path

    import torch
    from torch import nn

    tiny = nn.ModuleDict({"fc": nn.Linear(2, 4), "out": nn.Linear(4, 3)})
    state = {key: torch.full_like(tensor, value) for key, tensor in tiny.state_dict().items()}
    path = Path(tmp_path) / "weights.pt"
    torch.save(state, path)
    return path


@pytest.mark.parametrize(("value", "said"), [(float("nan"), "NaN"), (float("inf"), "NaN"), (1e38, "infinite values")])
def test_weights_that_make_nan_or_inf_are_never_reported_as_equal(tmp_path, capsys, value, said):
    """NaN compares False with everything, so 'largest difference nan' passed for equal (inf - inf is NaN too;
    finite weights of 1e38 overflow to inf)."""
    weights = _weights(tmp_path, value)
    assert _import(tmp_path, "--args", "[4]", "--weights", str(weights)) == 1
    captured = capsys.readouterr()
    assert "Outputs equal" not in captured.out
    assert f"The original model's outputs contain {said}: cannot compare." in captured.err, captured.err
    assert "Its weights hold NaN or infinite values (fc.weight, fc.bias, out.weight, out.bias)" in captured.err or (
        value == 1e38 and "Its weights are finite" in captured.err
    )
    assert not (tmp_path / "net.json").exists()


def test_a_forward_returning_a_tuple_is_checked_on_every_output():
    """Each output is compared now (only the first was): a tuple still imports, with one Output per item."""
    import torch
    from torch import nn

    from core.fx_import import import_model

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.aux = nn.Linear(2, 4), nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x), self.aux(x)

    result = import_model(Two(), [2])
    assert len(result.project.graph.nodes_of_type("Output")) == 2
    assert result.max_difference is not None and result.max_difference < 1e-6
    with torch.no_grad():
        broken = Two()
        broken.aux.weight.fill_(float("nan"))
    with pytest.raises(ModelImportError, match="The original model's outputs contain NaN: cannot compare"):
        import_model(broken, [2])
