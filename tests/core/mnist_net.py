"""pytorch/examples' MNIST network as published, in one place: bench/wild keeps its mnist/main.py unchanged (for
bench/import_wild.py), and the tests read it there instead of copying it. test_codegen and test_import_loss build
the class; test_fx_import hands the file's text to the import command, as a user's file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from torch import nn

MNIST_MAIN = Path(__file__).resolve().parents[2] / "bench" / "wild" / "pytorch_examples" / "mnist_main.py"


def _published_net() -> type[nn.Module]:
    """``Net`` of the file, imported as a module of its own (its ``main()`` runs only as a script)."""
    name = "pytorch_examples_mnist_main"
    spec = importlib.util.spec_from_file_location(name, MNIST_MAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so inspect finds the class's source, as for any imported class
    spec.loader.exec_module(module)
    return module.Net


Net = _published_net()
