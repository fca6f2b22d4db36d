"""Round trip of torchvision classifiers through the importer: trace, import, generated code with the original's
weights; one line per model: traced? imported? params equal? outputs equal (atol 1e-5)? seconds.

    python bench/import_roundtrip.py [NAME ...]   the five of issue 14 and one model of every other family
    python bench/import_roundtrip.py --all        every torchvision classifier but the four > 300M parameters,
                                                  and every segmentation model (its 'out' output)
"""

from __future__ import annotations

import argparse
import time

import torch

from core.files.built_model import build_model
from core.fx_import import ModelImportError, import_model
from core.fx_import.source import load_source, torchvision_names
from core.fx_import.trace import trace

FIRST = ["resnet18", "resnet34", "vgg11", "mobilenet_v2", "squeezenet1_0"]
FAMILIES = [
    "alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_v2_s", "googlenet", "inception_v3",
    "maxvit_t", "mnasnet0_5", "mobilenet_v3_small", "regnet_x_400mf", "regnet_y_400mf", "resnet50",
    "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_1", "swin_t", "vgg11_bn", "vit_b_32", "wide_resnet50_2",
    "lraspp_mobilenet_v3_large",
]  # fmt: skip
HUGE = {"vit_h_14", "regnet_y_128gf", "vit_l_16", "vit_l_32"}
SHAPES = {"inception_v3": [3, 299, 299]}


def _out(value: object) -> torch.Tensor:
    return value["out"] if isinstance(value, dict) else value  # type: ignore[return-value]


def one(name: str) -> str:
    start = time.perf_counter()
    torch.manual_seed(0)
    kind = "torchvision.segmentation" if name in torchvision_names(segmentation=True) else "torchvision"
    source = f"{kind}:{name}"
    try:
        model = load_source(source).eval()
    except ModelImportError as exc:
        return f"{name:22} build failed: {exc}"
    shape = SHAPES.get(name, [3, 224, 224])
    traced = imported = params_eq = outputs_eq = "no"
    why = ""
    try:
        trace(model)
        traced = "yes"
        result = import_model(model, shape)  # refuses, with the reason, what does not round-trip
        imported = "yes"
        built = build_model(result.project)
        built.module.load_state_dict(result.state)
        n_orig = sum(p.numel() for p in model.parameters())
        n_new = sum(p.numel() for p in built.module.parameters())
        same_keys = list(built.module.state_dict()) == list(model.state_dict())
        params_eq = "yes" if n_orig == n_new and same_keys else f"no ({n_new} vs {n_orig}, keys {same_keys})"
        x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            a, b = _out(model(x)), _out(built.module(x))
        diff = float((a - b).abs().max())
        outputs_eq = "yes" if torch.allclose(a, b, atol=1e-5) else "no"
        outputs_eq += f" ({diff:.1e})"
    except Exception as exc:  # the bench reports every failure as one line
        why = str(exc).splitlines()[0][:150]
    seconds = time.perf_counter() - start
    line = f"{name:22} traced={traced:3} imported={imported:3} params_equal={params_eq:3} outputs_equal={outputs_eq:14}"
    return f"{line} {seconds:6.1f}s" + (f"  {why}" if why else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="torchvision classifiers (default: the five and one per family)")
    parser.add_argument("--all", action="store_true", help="every classifier but the four > 300M parameters")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    names = args.names or FIRST + FAMILIES
    if args.all:
        names = FIRST + [n for n in torchvision_names() if n not in FIRST and n not in HUGE]
        names += torchvision_names(segmentation=True)
    for name in names:
        print(one(name), flush=True)


if __name__ == "__main__":
    main()
