"""``torchcanvas import SOURCE -o PROJECT.json``: an existing PyTorch model as a project with blocks and weights."""

from __future__ import annotations

import argparse
import os
import sys
import time

from core.cli import command, fail


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="path/to/file.py:ClassName (the file is run) or torchvision:NAME")
    p.add_argument("-o", "--out", required=True, help="the project file to write (.json)")
    p.add_argument(
        "--input-shape", help="one sample's shape, e.g. 3,224,224 (default) or 1,28,28; several inputs: '3,32,32;10'"
    )
    p.add_argument(
        "--input-dtype",
        choices=("float32", "int64"),
        help="int64 for token ids (default: int64 for an input that goes into an Embedding, else float32)",
    )
    p.add_argument("--weights", help="a state_dict file (.pt/.pth read with weights_only, or .safetensors)")
    p.add_argument("--args", help="constructor arguments as a JSON list ('[10]') or object ('{\"num_classes\": 10}')")
    p.add_argument("--force", action="store_true", help="replace an existing project file and its initial weights file")


@command("import", _import_args)
def run_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.errors import TorchCanvasError
    from core.fx_import import import_model
    from core.fx_import.initial import save_with_weights, weights_file_for
    from core.fx_import.source import DEFAULT_IMAGE_SHAPE, load_source, parse_args, parse_shapes, read_state

    out = Path(args.out)
    if out.suffix != ".json":
        return fail(f"{out}: the project file should end in .json.")
    if out.exists() and not args.force:
        return fail(f"{out} exists; add --force to replace it.")
    if os.path.lexists(weights_file_for(out)) and not args.force:
        return fail(f"{weights_file_for(out)} exists (the initial weights go there); add --force to replace it.")
    start = time.perf_counter()
    try:
        shapes = parse_shapes(args.input_shape) if args.input_shape else [list(DEFAULT_IMAGE_SHAPE)]
        module = load_source(args.source, parse_args(args.args))
        state = read_state(args.weights) if args.weights else None
        name = args.source.rsplit(":", 1)[-1]
        result = import_model(module, shapes, name=name, state=state, input_dtype=args.input_dtype)
        weights = save_with_weights(result.project, result.state, out, replace=args.force)
    except TorchCanvasError as exc:
        print("torchcanvas: cannot import the model:", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  - {line}", file=sys.stderr)
        return 1
    graph = result.project.graph
    blocks = ", ".join(sorted(graph.blocks)) or "none"
    print(f"Imported {args.source}: {len(graph)} nodes, blocks: {blocks}")
    print(f"Outputs equal the original's (largest difference {result.max_difference or 0.0:.1e}).")
    print(f"Wrote {out} and its initial weights {weights.name} ({time.perf_counter() - start:.1f} s).")
    return 0
