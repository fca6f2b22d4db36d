"""An imported model's exported code reads as a PyTorch author writes it (issue 24, trial 5 J3): a block class
takes only the numbers its instances differ in (``EncoderBlock()``, not ``EncoderBlock(64, 64, 64, 64, 128)``
with an unused first one), an nn.Sequential's numbered layers are an ``nn.Sequential`` (no
``getattr(self, "0")``), a residual's main path goes on in ``out`` and meets ``identity`` at the Add, and a
class's docstring says what the block is and where it came from, never the name the import ran the file under.
The weights still load strictly and the outputs are the original's."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from core.files.built_model import generated_code
from core.fx_import import import_model
from core.fx_import.source import load_source
from tests.core.import_fixtures import round_trip


def _vit() -> torchvision.models.VisionTransformer:
    torch.manual_seed(0)
    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=64, mlp_dim=128, num_classes=10
    )


@pytest.fixture(scope="module")
def vit_source() -> str:
    project = round_trip(_vit(), [3, 32, 32])  # strict keys, parameter count and outputs (atol 1e-5)
    code, _ = generated_code(project)
    return code.source


def _classes(source: str) -> dict[str, ast.ClassDef]:
    """The file's nn.Module classes (the blocks' and Net)."""
    found = [node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]
    return {node.name: node for node in found if any(ast.unparse(b) == "nn.Module" for b in node.bases)}


def _unused_arguments(cls: ast.ClassDef) -> list[str]:
    init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
    read = {n.id for n in ast.walk(init) if isinstance(n, ast.Name)}
    return [a.arg for a in init.args.args[1:] if a.arg not in read]


def test_a_vits_blocks_take_no_row_of_unexplained_numbers(vit_source: str):
    assert "self.encoder = Encoder()" in vit_source, vit_source
    assert "self.encoder_layer_0 = EncoderBlock()" in vit_source
    assert "self.ln_1 = nn.LayerNorm(64, eps=1e-06)" in vit_source
    assert "nn.MultiheadAttention(64, 2, batch_first=True)" in vit_source
    for name, cls in _classes(vit_source).items():
        assert not _unused_arguments(cls), (name, _unused_arguments(cls))


def test_a_vits_numbered_layers_are_an_nn_sequential(vit_source: str):
    assert "getattr(self" not in vit_source and "add_module" not in vit_source, vit_source
    assert "self.mlp = nn.Sequential(\n            nn.Linear(64, 128),\n            nn.GELU()," in vit_source


def test_a_vit_blocks_residuals_read_out_and_identity(vit_source: str):
    block = vit_source[vit_source.index("class EncoderBlock") : vit_source.index("class Layers")]
    assert "        identity = out\n        out = self.ln_2(out)\n        out = self.mlp(out)\n" in block, block
    assert block.count("out = out + identity") == 2
    encoder = vit_source[vit_source.index("class Encoder(") : vit_source.index("class Heads")]
    assert "identity" not in encoder, encoder  # the position embedding reads x for the batch size only


def test_a_vits_docstrings_say_what_each_block_is(vit_source: str):
    docstring = (
        '"""Transformer encoder block. Imported from\n    torchvision.models.vision_transformer.EncoderBlock."""'
    )
    assert docstring in vit_source
    assert '"""The model\'s heads: an nn.Sequential in the original."""' in vit_source
    assert "torch.nn.modules.container" not in vit_source


def test_a_vits_code_is_ruff_clean(vit_source: str, tmp_path: Path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    (tmp_path / "vit.py").write_text(vit_source)
    for args in (["check", "--isolated", "--select", "E,F,W,I"], ["format", "--isolated", "--check"]):
        result = subprocess.run([ruff, *args, str(tmp_path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


TINY_VIT = """
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        x = x + self.mlp(self.norm2(x))
        return x


class ViT(nn.Module):
    def __init__(self, dim=32, depth=2, heads=4):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, 4, stride=4)
        self.pos_embed = nn.Parameter(torch.randn(1, 16, dim) * .02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = x + self.pos_embed
        return self.head(self.blocks(x)[:, 0])
"""


def test_a_model_files_blocks_name_the_file_not_the_module_it_ran_as(tmp_path: Path):
    path = tmp_path / "tiny_vit.py"
    path.write_text(TINY_VIT)
    model = load_source(f"{path}:ViT").eval()
    result = import_model(model, [3, 16, 16])
    code, _ = generated_code(result.project)
    source = code.source
    assert '    """Imported from tiny_vit.py:Block."""' in source, source
    assert "torchcanvas_import" not in source
    assert "self.blocks = nn.Sequential(Block(), Block())" in source
    assert "self.mlp = nn.Sequential(nn.Linear(32, 128), nn.GELU(), nn.Linear(128, 32))" in source
    assert "x = x + out" in source and "identity = self.mlp" not in source
    namespace: dict = {}
    exec(compile(source, "tiny_vit_model.py", "exec"), namespace)
    net = namespace["Net"]().eval()
    net.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), atol=1e-5, rtol=0)


class _TwoMlps(nn.Module):
    """Two nn.Sequential MLPs on tokens of different widths: one class, whose first Linear's size differs."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 12))
        self.b = nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.Linear(16, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))


class _Loop(nn.Module):
    """A ModuleList called in a loop with a function between its members (trial 5 J10d)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 8)
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.out = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(x)
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.out(x)


def test_numbered_layers_whose_sizes_differ_are_a_subclass_of_nn_sequential_with_named_arguments():
    torch.manual_seed(0)
    source = generated_code(round_trip(_TwoMlps(), [5, 8]))[0].source
    assert "class A(nn.Sequential):" in source, source
    assert "nn.Linear(layer0_in_features, 16), nn.GELU(), nn.Linear(16, out_features)" in source
    assert "self.a = A(layer0_in_features=8)" in source
    assert "self.b = A(out_features=8, layer0_in_features=12)" in source
    assert "getattr(self" not in source and "add_module" not in source


def test_a_module_lists_members_are_indexed_as_a_module_list():
    torch.manual_seed(0)
    source = generated_code(round_trip(_Loop(), [6]))[0].source
    assert "class Layers(nn.ModuleList):" in source, source
    assert "        self.append(nn.Linear(in_channels, 8))\n        self.append(nn.Linear(8, 8))\n" in source
    assert "        x = self[0](x)\n        x = self.tanh(x)\n        x = self[1](x)\n" in source
    assert "getattr(self" not in source and "add_module" not in source


def test_an_imported_nn_sequential_is_a_net_that_indexes_its_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    source = generated_code(round_trip(model, [3, 8, 8]))[0].source
    assert "class Net(nn.ModuleList):" in source, source
    assert "        self.append(nn.Conv2d(3, 4, kernel_size=3))\n" in source
    assert "        x = self[0](x)  # [N, 4, 6, 6]\n" in source
    assert "getattr(self" not in source and "add_module" not in source


class _Stack(nn.Module):
    """An nn.ModuleList of blocks called one after another, as nanoGPT's ``transformer.h``."""

    class Blk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln = nn.LayerNorm(8)
            self.fc = nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.fc(self.ln(x))

    def __init__(self) -> None:
        super().__init__()
        self.h = nn.ModuleList([self.Blk(), self.Blk()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.h:
            x = block(x)
        return x


def test_a_module_list_called_in_turn_is_an_inline_nn_sequential():
    torch.manual_seed(0)
    source = generated_code(round_trip(_Stack(), [4, 8]))[0].source
    assert "self.h = nn.Sequential(Blk(), Blk())" in source, source
    assert "class H(" not in source
