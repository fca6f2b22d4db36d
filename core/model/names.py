"""Which names may appear in generated code, and an allocator that hands out clean, unique ones.

Node names become ``self.<name>`` attributes and forward-argument names, so a name must be a plain identifier
that shadows nothing: not a keyword, not a builtin, and not an ``nn.Module`` attribute such as ``to``, ``eval``
or ``training`` (assigning ``self.eval = nn.Linear(...)`` would silently break the model).
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re

from core.errors import InvalidNameError
from core.model.pyparse import parse

MAX_NAME_LENGTH = 48

# Attributes of torch.nn.Module (torch 2.4 - 2.15); tests/core/test_names.py checks it still covers dir(nn.Module).
MODULE_ATTRIBUTES = frozenset(
    [
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "smart_apply",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
    ]
)

# Names the generated file itself uses at module or forward level.
GENERATED_NAMES = frozenset({"self", "torch", "nn", "F", "np", "math", "Net", "model", "super"})

RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a node name, in plain words, or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name may have at most {MAX_NAME_LENGTH} characters"
    if not name.isascii() or not name.isidentifier():
        return "a name may use only letters, digits and _, and cannot start with a digit (e.g. conv1, fc_out)"
    if name.startswith("_"):
        return "a name cannot start with _"
    if name in RESERVED:
        return f"'{name}' is a Python keyword or built-in name"
    if name in MODULE_ATTRIBUTES or name in GENERATED_NAMES:
        return f"'{name}' is already used by PyTorch's nn.Module or the generated code"
    return None


# Names a generated file binds or calls beside the blocks' classes: a block class or a constructor argument named so
# would shadow them (``class super``, ``def __init__(self, nn: int)``) and the code would crash when run.
CODE_NAMES = frozenset(
    {"self", "super", "torch", "nn", "F", "np", "math", "dist", "DDP", "Net", "Tensor", "Module", "Sequential"}
)


def code_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a block's class or argument in generated code, in plain words, or None."""
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier():
        return "use only letters, digits and _, and do not start with a digit"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name may have at most {MAX_NAME_LENGTH} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"'{name}' is a Python keyword"
    if name.startswith("__"):
        return "a name starting with __ is Python's own (and is renamed inside a class)"
    if name in RESERVED:
        return f"'{name}' is a Python built-in name"
    if name in CODE_NAMES:
        return f"'{name}' is used by the generated code itself"
    return None


def module_level_names(source: str) -> set[str]:
    """Every name a piece of generated source binds at module level (imports, classes, functions, constants)."""
    found: set[str] = set()
    for item in parse(source).body:
        if isinstance(item, (ast.Import, ast.ImportFrom)):
            found |= {(alias.asname or alias.name).split(".")[0] for alias in item.names}
        elif isinstance(item, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.add(item.name)
        elif isinstance(item, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = item.targets if isinstance(item, ast.Assign) else [item.target]
            found |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return found


def code_name(wanted: str, taken: set[str] | frozenset[str]) -> str:
    """``wanted`` if it is a clean class or argument name not in ``taken``, else the nearest one that is
    (``super`` -> ``super_``, ``__class__`` -> ``class_``, ``main`` in a script that defines ``main()`` -> ``main_``).
    """
    if code_name_problem(wanted) is None and wanted not in taken:
        return wanted
    base = re.sub(r"[^0-9a-zA-Z_]+", "_", str(wanted)).strip("_")[: MAX_NAME_LENGTH - 4] or "Block"
    if base[0].isdigit():
        base = f"Block{base}"
    candidates = [base, f"{base}_", *(f"{base}_{n}" for n in range(2, len(taken) + 3))]
    return next(c for c in candidates if code_name_problem(c) is None and c not in taken)


def check_name(name: object, node_id: str | None = None) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise InvalidNameError(f"Cannot use {name!r} as a name: {problem}.", node_id)
    assert isinstance(name, str)
    return name


def clean_identifier(text: str, fallback: str = "layer") -> str:
    """Turn any title into a snake_case identifier candidate: 'Conv 2D #1' -> 'conv_2d_1'."""
    text = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(text))
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text[:MAX_NAME_LENGTH]


class NameAllocator:
    """Hands out unique identifiers that never shadow keywords, builtins or nn.Module attributes.

    A fresh allocator is made per generation, so the same graph always gives the same names.
    """

    def __init__(self, taken: set[str] | frozenset[str] = frozenset()) -> None:
        self._used: set[str] = set(taken)

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def __contains__(self, name: object) -> bool:
        return name in self._used

    def allocate(self, wanted: str, fallback: str = "layer") -> str:
        base = wanted if name_problem(wanted) is None else clean_identifier(wanted, fallback)
        if name_problem(base) is not None:
            base = f"{base}_"
            if name_problem(base) is not None:
                base = fallback
        candidate = base
        counter = 1
        while candidate in self._used or name_problem(candidate) is not None:
            candidate = f"{base}_{counter}"
            counter += 1
        self._used.add(candidate)
        return candidate


def module_attribute(attrs: NameAllocator, name: str, key: str | None, fallback: str) -> str:
    """The name a node's module is registered under: its ``key`` where the imported model's weights name it so
    (regnet's ``block1-0``: not a Python name, so the code registers it with ``add_module`` and reads it with
    ``getattr``, and the original's state_dict loads as it is), else a fresh attribute named after the node."""
    if key and not key.isidentifier() and "." not in key and key.isprintable() and key not in attrs:
        attrs.reserve(key)
        return key
    return attrs.allocate(name, fallback)


def module_ref(attr: str) -> str:
    """``self.conv1``, or ``getattr(self, "block1-0")`` for a module registered under a name Python cannot spell."""
    return f"self.{attr}" if attr.isidentifier() else f"getattr(self, {json.dumps(attr)})"
