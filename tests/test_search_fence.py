"""Whoosh behind a fence: only search/ imports whoosh, only search/whoosh_internals.py
reads Whoosh's private names, and that module refuses a Whoosh it was not written for."""

from __future__ import annotations

import ast
import importlib.metadata
import os
from pathlib import Path

import pytest

from search import whoosh_internals

ROOT = Path(__file__).resolve().parent.parent
SEARCH_DIR = ROOT / "search"
INTERNALS_MODULE = SEARCH_DIR / "whoosh_internals.py"
NOT_SOURCE = {".venv", "node_modules", "static", "instance", ".git"}
# Tests that compare the engine with Whoosh itself, so they build Whoosh queries and fields.
WHOOSH_COMPARISON_TESTS = {"tests/test_search_engine.py"}
SELF_NAMES = {"self", "cls"}


def _python_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name not in NOT_SOURCE)  # never walked
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".py")]
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _whoosh_modules_imported(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "whoosh"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "whoosh":
            found.append(node.module)
    return found


def _names_defined_on_self(cls: ast.ClassDef) -> set[str]:
    """Methods and class attributes of cls, and attributes it assigns on self."""
    names = set()
    for node in ast.walk(cls):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in SELF_NAMES
        ):
            names.add(node.attr)
    return names


def private_reads(source: str) -> list[str]:
    """Private names a module reads from objects other than its own: `x._name` where x is
    not self, `self._name` that its class does not define (inherited, e.g. from a Whoosh
    class), getattr-style calls with a private name, and private names imported from whoosh."""
    tree = ast.parse(source)
    found = []
    own_names: dict[ast.AST, set[str]] = {}
    for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
        names = _names_defined_on_self(cls)  # once per class, not once per node in it
        for node in ast.walk(cls):
            own_names.setdefault(node, names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            on_self = isinstance(node.value, ast.Name) and node.value.id in SELF_NAMES
            if not on_self or node.attr not in own_names.get(node, set()):
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"getattr", "hasattr", "setattr", "delattr"} and len(node.args) >= 2:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str) and _is_private(name.value):
                    found.append(f"line {node.lineno}: {node.func.id}(..., {name.value!r})")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "whoosh":
            parts = node.module.split(".") + [alias.name for alias in node.names]
            found += [f"line {node.lineno}: import {part}" for part in parts if _is_private(part)]
    return found


def test_only_whoosh_internals_reads_private_whoosh_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): reads
        for path in _python_files(SEARCH_DIR)
        if path != INTERNALS_MODULE and (reads := private_reads(path.read_text("utf-8")))
    }
    assert offenders == {}


def test_the_fence_check_sees_private_reads() -> None:
    """The check itself: each way of reaching a private name is caught. The names are made
    up: the sample is parsed, never run, and real private names stay in whoosh_internals.py."""
    source = """
from whoosh.codec.whoosh3 import _hidden_helper
from whoosh.scoring import BM25F

class Scorer(BM25F):
    def __init__(self):
        self._mine = 1

    def read(self, matcher, weighting):
        return self._mine, self._inherited, matcher._cursor, getattr(weighting, "_inherited")
"""
    reads = {read.split(": ", 1)[1] for read in private_reads(source)}
    assert reads == {"import _hidden_helper", "._inherited", "._cursor", "getattr(..., '_inherited')"}


def test_nothing_outside_search_imports_whoosh() -> None:
    offenders = {}
    for path in _python_files(ROOT):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "search" or str(relative) in WHOOSH_COMPARISON_TESTS:
            continue
        imported = _whoosh_modules_imported(ast.parse(path.read_text("utf-8")))
        if imported:
            offenders[str(relative)] = imported
    assert offenders == {}


def test_the_installed_whoosh_is_the_pinned_one() -> None:
    whoosh_internals.check_installed_whoosh()
    pinned = f"{whoosh_internals.PINNED_DISTRIBUTION}=={whoosh_internals.PINNED_VERSION}"
    assert pinned in (ROOT / "requirements.txt").read_text("utf-8").splitlines()


def test_another_whoosh_version_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda _name: "2.7.4")
    with pytest.raises(
        whoosh_internals.WhooshMismatch, match=r"whoosh-reloaded==2\.7\.5.*found whoosh-reloaded 2\.7\.4"
    ):
        whoosh_internals.check_installed_whoosh()


def test_a_missing_private_name_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    names = (*whoosh_internals.LEAF_MATCHER_NAMES, "_block_of_the_future")
    monkeypatch.setattr(whoosh_internals, "LEAF_MATCHER_NAMES", names)
    with pytest.raises(whoosh_internals.WhooshMismatch, match=r"W3LeafMatcher\._block_of_the_future"):
        whoosh_internals.check_installed_whoosh()
