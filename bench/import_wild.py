"""Model files as published, imported: each file of ``bench/wild/`` (copied unchanged from a public repository,
licence kept; see bench/wild/SOURCES.md) goes through ``torchcanvas import``'s own steps, and the generated network,
with the original's weights, must have its state_dict keys and give its outputs. One line per model: exact, or
refused with the importer's first reason. Layers the model builds but forward never calls (in eval mode), and tensors
it never reads, are left out of the drawing: there exact means equal outputs and every key forward uses, and the
line says how many keys were left out.

    python bench/import_wild.py            every model, a table (Markdown with --markdown)
    python bench/import_wild.py NAME ...   the models whose file or class contains NAME
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import Args, load_source, parse_args

WILD = Path(__file__).resolve().parent / "wild"
CIFAR = [3, 32, 32]


@dataclass
class Entry:
    file: str  # under bench/wild/
    name: str  # the class or the function that builds the model
    shape: list[int] = field(default_factory=lambda: list(CIFAR))
    args: Args = field(default_factory=list)  # as torchcanvas import --args gives them
    argv: list[str] = field(default_factory=list)  # the file's own command line (torchcanvas import --argv)
    tokens: int = 0  # token ids from 0 to tokens - 1 as input (a language model); 0: random floats


ENTRIES = [
    Entry("kuangliu_pytorch_cifar/lenet.py", "LeNet"),
    Entry("kuangliu_pytorch_cifar/vgg.py", "VGG", args=["VGG11"]),
    Entry("kuangliu_pytorch_cifar/resnet.py", "ResNet18"),
    Entry("kuangliu_pytorch_cifar/preact_resnet.py", "PreActResNet18"),
    Entry("kuangliu_pytorch_cifar/mobilenet.py", "MobileNet"),
    Entry("kuangliu_pytorch_cifar/mobilenetv2.py", "MobileNetV2"),
    Entry("kuangliu_pytorch_cifar/googlenet.py", "GoogLeNet"),
    Entry("kuangliu_pytorch_cifar/densenet.py", "densenet_cifar"),
    Entry("kuangliu_pytorch_cifar/senet.py", "SENet18"),
    Entry("kuangliu_pytorch_cifar/shufflenetv2.py", "ShuffleNetV2", args=[0.5]),
    Entry("kuangliu_pytorch_cifar/regnet.py", "RegNetX_200MF"),
    Entry("kuangliu_pytorch_cifar/efficientnet.py", "EfficientNetB0"),
    Entry("kuangliu_pytorch_cifar/dla_simple.py", "SimpleDLA"),
    Entry("akamaster_resnet_cifar10/resnet.py", "resnet20"),
    Entry("chenyaofo_cifar_models/resnet.py", "cifar10_resnet20"),
    Entry("chenyaofo_cifar_models/vgg.py", "cifar10_vgg11_bn"),
    Entry("chenyaofo_cifar_models/mobilenetv2.py", "cifar10_mobilenetv2_x0_5"),
    Entry("chenyaofo_cifar_models/shufflenetv2.py", "cifar10_shufflenetv2_x0_5"),
    Entry("chenyaofo_cifar_models/repvgg.py", "cifar10_repvgg_a0"),
    Entry("jvanvugt_unet/unet.py", "UNet", [1, 64, 64], {"depth": 3, "wf": 4, "padding": True}),
    Entry("pytorch_examples/mnist_main.py", "Net", [1, 28, 28]),
    Entry("pytorch_examples/super_resolution_model.py", "Net", [1, 32, 32], [3]),
    Entry("pytorch_examples/transformer_net.py", "TransformerNet", [3, 64, 64]),
    Entry("pytorch_examples/word_language_model.py", "RNNModel", [12], ["LSTM", 50, 16, 16, 2], tokens=50),
    Entry("pytorch_examples/word_language_model.py", "TransformerModel", [12], [50, 16, 2, 32, 2], tokens=50),
    Entry("pytorch_examples/dcgan_main.py", "Generator", [100, 1, 1], [1], ["--dataset", "fake", "--niter", "0"]),
    Entry(
        "karpathy_nanogpt/model.py",
        "GPT",
        [16],
        parse_args("config=GPTConfig(n_layer=2, n_head=2, n_embd=64, vocab_size=100, block_size=32)"),
        tokens=100,
    ),
]


def one(entry: Entry) -> tuple[str, float]:
    """``exact (difference 0.0e+00)`` or ``refused: <reason>``, and the seconds it took."""
    start = time.perf_counter()
    torch.manual_seed(0)
    argv = sys.argv
    try:
        sys.argv = [entry.file]  # a file that parses its command line at import time sees none, as TorchCanvas runs it
        model = load_source(f"{WILD / entry.file}:{entry.name}", entry.args, entry.argv).eval()
        result = import_model(model, entry.shape)
        built = build_model(result.project).module.eval()
        left_out = set(result.skipped)  # layers forward never calls: not drawn, their weights not loaded
        used = {k: v for k, v in model.state_dict().items() if k not in left_out}
        if set(built.state_dict()) != set(used):  # the order may differ: weights load by name
            return "differs: other state_dict keys", time.perf_counter() - start
        built.load_state_dict(used, strict=True)
        generator = torch.Generator().manual_seed(1)
        if entry.tokens:
            x = torch.randint(0, entry.tokens, (2, *entry.shape), generator=generator)
        else:
            x = torch.randn(2, *entry.shape, generator=generator)
        calling = result.calling  # a time-first model reads x transposed; a starting state: init_hidden's zeros
        states = {name: _state(model, len(x)) for name in calling.zero_states}
        with torch.no_grad():
            raw = model(*calling.original_inputs([x]), **states)
            a = calling.drawn_outputs(raw, len(x))
            b = outputs(built(x))
        if len(a) != len(b) or any(p.shape != q.shape for p, q in zip(a, b, strict=True)):
            return "differs: other outputs", time.perf_counter() - start
        diff = max(float((p - q).abs().max()) for p, q in zip(a, b, strict=True))
        skipped = f"; {len(left_out)} keys forward never uses left out" if left_out else ""
        if any(calling.transposed):
            skipped += "; time first, drawn batch first"
        if calling.zero_states:
            skipped += "; starting state of zeros"
        if calling.kept is not None and len(calling.kept) < len(
            outputs(model(*calling.original_inputs([x]), **states))
        ):
            skipped += "; final state not drawn"
        exact = all(torch.allclose(p, q, atol=1e-5) for p, q in zip(a, b, strict=True))
        verdict = f"exact (difference {diff:.1e}{skipped})" if exact else f"differs by {diff:.1e}"
    except ModelImportError as exc:
        verdict = "refused: " + exc.problems[0][:160]
    except (Exception, SystemExit) as exc:  # the bench reports every failure as one line
        verdict = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:140] if str(exc) else ''}"
    finally:
        sys.argv = argv
    return verdict, time.perf_counter() - start


def _state(model: torch.nn.Module, batch: int) -> object:
    """The starting state the model's own code makes (word_language_model's init_hidden: zeros), else None."""
    make = getattr(model, "init_hidden", None)
    return make(batch) if callable(make) else None


def outputs(value: object) -> list[torch.Tensor]:
    """A model's outputs as a list; a None among them (nanoGPT's loss without targets) is no output."""
    items = list(value) if isinstance(value, (tuple, list)) else [value]
    return [item for item in items if item is not None]  # type: ignore[misc]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only the models whose file or class contains one of these")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (as in the README)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    chosen = [e for e in ENTRIES if not args.names or any(n in e.file or n in e.name for n in args.names)]
    exact = 0
    if args.markdown:
        print("| File | Model | Result |\n| --- | --- | --- |")
    for entry in chosen:
        verdict, seconds = one(entry)
        exact += verdict.startswith("exact")
        if args.markdown:
            print(f"| `{entry.file}` | `{entry.name}` | {verdict.replace('|', '/')} |", flush=True)
        else:
            print(f"{entry.file:45} {entry.name:26} {seconds:5.1f}s  {verdict}", flush=True)
    print(f"\n{exact} of {len(chosen)} exact; files from {len({e.file.split('/')[0] for e in chosen})} repositories.")


if __name__ == "__main__":
    main()
