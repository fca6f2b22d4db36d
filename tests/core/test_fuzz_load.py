"""Loading never executes anything and never raises anything but ProjectLoadError, whatever the bytes.

Five Hypothesis tests of 500 cases each (2,500 per run, counted and checked by the last test): random JSON,
mutated valid projects, raw and corrupted bytes, hostile number / constant tokens, and deep nesting.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ProjectLoadError
from core.files.project import dumps, loads

ROOT = Path(__file__).resolve().parents[2]
VALID = [
    p.read_bytes()
    for p in sorted((ROOT / "resources" / "examples").glob("*.json"))
    + sorted((Path(__file__).parent / "fixtures" / "projects" / "v1").glob("*.json"))
]
VALID_DATA = [json.loads(raw) for raw in VALID]
for _raw in VALID:  # warm up: codecs and the like are imported lazily on first use, not because of a file
    dumps(loads(_raw))
CASES = 500
COUNT = {"cases": 0}

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["Input", "Linear", "Output", "Conv2d", "Add", "n1", "n2", "x", "torchcanvas-project", ""]),
    st.sampled_from(["Block", "BasicBlock", "Downsample", "out_channels", "stride"]),
)
KEYS = ["format", "schema_version", "schema_minor", "graph", "nodes", "edges", "params", "type", "name", "id", "pos"]
KEYS += ["blocks", "block", "repeat", "first_block", "first_params", "ports", "args", "bindings", "default", "arg"]
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=10) | st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=30,
)


@contextlib.contextmanager
def _no_execution() -> Iterator[None]:
    """While loading: no eval/exec/compile, and no import of a module not already loaded."""
    real_import = builtins.__import__

    def guarded_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name not in sys.modules:
            raise AssertionError(f"loading imported {name}")
        return real_import(name, *args, **kwargs)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("loading tried to execute code")

    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval = builtins.exec = builtins.compile = forbidden
    builtins.__import__ = guarded_import
    try:
        yield
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved
        builtins.__import__ = real_import


def _check(raw: bytes | str) -> None:
    """The one property: a Project or a ProjectLoadError; nothing called that a file could trigger."""
    COUNT["cases"] += 1
    try:
        with _no_execution():
            project = loads(raw, "fuzz.json")
    except ProjectLoadError as exc:
        assert not exc.unexpected, str(exc)
        assert str(exc).startswith("fuzz.json: ")
        return
    dumps(project)  # whatever loads must also save


def _with_header(value: Any) -> dict[str, Any]:
    base = {"format": "torchcanvas-project", "schema_version": 1}
    if isinstance(value, dict):
        base.update(value)
    else:
        base["graph"] = value
    return base


@pytest.mark.slow
@settings(max_examples=CASES)
@given(value=json_value, header=st.booleans())
def test_random_json(value: Any, header: bool) -> None:
    data = _with_header(value) if header else value
    _check(json.dumps(data).encode())


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, item in data.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found += _paths(item, (*prefix, i))
    return found


def _mutate(data: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "wrap":
        parent[key] = [parent[key]]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    else:
        parent[key] = value
    return data


@pytest.mark.slow
@settings(max_examples=CASES)
@given(
    which=st.integers(0, len(VALID_DATA) - 1),
    mutations=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["replace", "delete", "wrap", "duplicate"]),
            json_value
            | st.sampled_from(
                [
                    -1,
                    0,
                    2**31 + 1,
                    10**30,
                    1e308,
                    -0.0,
                    "",
                    "x); import os; os.system('true')#",
                    "__class__",
                    "ＸＹＺ",
                    [[[[1]]]],
                    {"__proto__": 1},
                    "n1",
                    True,
                ]
            ),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_valid_projects(which: int, mutations: list[tuple[int, str, Any]]) -> None:
    data = json.loads(json.dumps(VALID_DATA[which]))
    for index, action, value in mutations:
        paths = _paths(data)
        data = _mutate(data, paths[index % len(paths)], action, json.loads(json.dumps(value)))
    _check(json.dumps(data).encode())


@pytest.mark.slow
@settings(max_examples=CASES)
@given(
    which=st.integers(0, len(VALID) - 1),
    cut=st.integers(0, 10**6),
    noise=st.binary(max_size=40),
    mode=st.sampled_from(["truncate", "splice", "random", "latin1", "surrogate", "bom", "nul"]),
)
def test_corrupted_bytes(which: int, cut: int, noise: bytes, mode: str) -> None:
    raw = VALID[which]
    at = cut % (len(raw) + 1)
    if mode == "truncate":
        data = raw[:at]
    elif mode == "splice":
        data = raw[:at] + noise + raw[at + len(noise) :]
    elif mode == "random":
        data = noise
    elif mode == "latin1":
        data = raw.decode("utf-8").replace('"name": "', '"name": "\xe9', 1).encode("latin-1", "replace")
    elif mode == "surrogate":
        data = raw.replace(b'"description": "', b'"description": "\\udc80\\ud800', 1)
    elif mode == "bom":
        data = b"\xef\xbb\xbf" + raw[:at] + b"\xed\xa0\x80" + raw[at:]  # BOM, then an encoded surrogate
    else:
        data = raw[:at] + b"\x00" + raw[at:]
    _check(data)


TOKENS = [
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1" * 5000,
    "-" + "9" * 41,
    "1E400",
    "0.0000000000000000000000000000000000000000001e-400",
    "123456789012345678901234567890",
    "2147483649",
    "-0",
    "1.5",
    "true",
    "null",
    '"\\ud800"',
    '"\\u0000"',
    '"x\\ny"',
]


@pytest.mark.slow
@settings(max_examples=CASES)
@given(which=st.integers(0, len(VALID) - 1), token=st.sampled_from(TOKENS), index=st.integers(0, 10**6))
def test_hostile_number_and_constant_tokens(which: int, token: str, index: int) -> None:
    text = VALID[which].decode("utf-8")
    spots = [i for i, ch in enumerate(text) if ch.isdigit() or text.startswith(("true", "false", "null"), i)]
    spot = spots[index % len(spots)]
    end = spot
    while end < len(text) and (text[end].isalnum() or text[end] in ".-+"):
        end += 1
    _check((text[:spot] + token + text[end:]).encode("utf-8"))


@pytest.mark.slow
@settings(max_examples=CASES)
@given(
    depth=st.integers(1, 200_000),
    opener=st.sampled_from(["[", '{"a":', '{"graph":', '{"format": "torchcanvas-project", "schema_version": 1, "g":']),
    closed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_deep_nesting(depth: int, opener: str, closed: bool, seed: int) -> None:
    closer = {"[": "]"}.get(opener, "}")
    depth = depth if random.Random(seed).random() < 0.3 else depth % 80
    text = opener * depth + "1" + (closer * depth if closed else "")
    _check(text.encode())


@pytest.mark.slow  # counts the cases of the slow fuzz tests above: without them it has nothing to count
def test_fuzz_case_count() -> None:
    """Runs after the five above (file order): at least 2,000 cases per run."""
    if COUNT["cases"] == 0:
        pytest.skip("run with the whole file to count cases")
    print(f"fuzz cases this run: {COUNT['cases']}")
    assert COUNT["cases"] >= 2000
