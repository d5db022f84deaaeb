"""The architecture of docs/architecture.md holds: the import-linter contracts of pyproject.toml
(layers, kernels standing alone), no import cycle between any two modules, a core/ of packages
by role with few modules at its top, and the public API importable from `core`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "kernels", "desktop", "cli")


def test_import_linter_contracts_are_kept():
    out = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_any_two_modules():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)  # type-only count too
    # A package's __init__ importing its own modules is how a package shows its API, not a cycle.
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if not m.startswith(i + ".")}
             for m in graph.modules}
    assert _cycles(edges) == []


def test_core_is_packages_by_role_with_at_most_four_modules_on_top():
    top = sorted(p.name for p in (ROOT / "core").glob("*.py"))
    assert len(top) <= 4, top
    assert {p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()} == {
        "engine", "chat", "store", "docs", "server", "remote", "system", "sandbox"}


@pytest.mark.parametrize("name", ["load_model", "Model", "Session", "load_tokenizer", "Tokenizer", "render_chat"])
def test_public_api_is_importable_from_core(name):
    import core

    assert callable(getattr(core, name))
    assert name in core.__all__


def test_unknown_core_name_is_an_attribute_error():
    import core

    with pytest.raises(AttributeError):
        core.no_such_thing  # noqa: B018
