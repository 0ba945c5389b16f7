"""The shape of the code, read from its source with ``ast`` (nothing is imported or run).

- the engine (``soundedit.edit``, ``soundedit.bundle``) never imports a world
  (``soundedit.soundscapes``): worlds reach it through the bundle's hooks;
- the library never imports gradio or the app (``demo``);
- no two modules import each other, directly or through others (imports inside functions count);
- no function of the library or the app is longer than :data:`MAX_FUNCTION_LINES` lines;
- no test reaches a private name (``_name``) of the library or the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60
ENGINE = ("soundedit.edit", "soundedit.bundle")
WORLD = "soundedit.soundscapes"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files(*packages: str) -> dict[str, Path]:
    """module name -> file, for every .py file under the given top-level folders."""
    files = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


LIBRARY = source_files("soundedit")
APP = source_files("demo")


def imported_modules(path: Path, name: str, known=None) -> set[str]:
    """Every module ``path`` imports, anywhere in the file.

    ``from a import b`` counts as importing ``a.b`` when that is a module of ``known``, else ``a``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if known is None or full in known else base)
    return found


def internal_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules of ``files`` it imports (its own package __init__ excluded)."""
    graph = {}
    for name, path in files.items():
        targets = {m for m in imported_modules(path, name, files) if m in files and m != name}
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_engine_never_imports_a_world():
    engine = {n: p for n, p in LIBRARY.items() if n.startswith(ENGINE)}
    assert engine, "the engine modules were not found"
    offending = {
        name: sorted(m for m in imported_modules(path, name) if m.startswith(WORLD))
        for name, path in engine.items()
    }
    assert not {k: v for k, v in offending.items() if v}


def test_the_library_never_imports_gradio_or_the_app():
    offending = {}
    for name, path in LIBRARY.items():
        bad = [m for m in imported_modules(path, name) if m.split(".")[0] in ("gradio", "demo")]
        if bad:
            offending[name] = sorted(bad)
    assert not offending


def test_no_module_imports_itself_through_others():
    assert cycles(internal_graph({**LIBRARY, **APP})) == []


def package_of(module: str) -> str:
    """soundedit.edit.pipeline -> soundedit.edit; soundedit.bundle -> soundedit.bundle."""
    return ".".join(module.split(".")[:2])


def test_no_package_imports_itself_through_others():
    graph: dict[str, set[str]] = {}
    for name, targets in internal_graph({**LIBRARY, **APP}).items():
        edges = graph.setdefault(package_of(name), set())
        edges.update(package_of(t) for t in targets if package_of(t) != package_of(name))
    graph.pop("soundedit", None)  # the top package re-exports; it is not a layer
    for edges in graph.values():
        edges.discard("soundedit")
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def long_functions(files: dict[str, Path]) -> list[str]:
    found = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found


def test_functions_are_short():
    assert long_functions({**LIBRARY, **APP}) == []


def private_uses(path: Path, public_roots: tuple[str, ...]) -> list[str]:
    """``module._name`` attribute reads and ``from module import _name`` of our own modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours: dict[str, str] = {}  # local name -> our module it stands for
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in public_roots:
                    ours[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in public_roots:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {node.module} import {alias.name}")
                ours[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ours
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "setattr":
            args = node.args
            if (
                len(args) >= 2
                and isinstance(args[0], ast.Name)
                and args[0].id in ours
                and isinstance(args[1], ast.Constant)
                and str(args[1].value).startswith("_")
            ):
                found.append(f"setattr({args[0].id}, {args[1].value!r})")
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "tests").rglob("*.py")), ids=lambda p: p.name)
def test_tests_use_only_public_names(path):
    assert private_uses(path, ("soundedit", "demo")) == []


def test_pyproject_ships_every_package_and_the_weights():
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {module_name(p.parent) for p in (ROOT / "soundedit").rglob("__init__.py")}
    assert set(setuptools["packages"]) == packages | {"soundedit.weights"}
    assert setuptools["package-dir"]["soundedit.weights"] == "weights"
    shipped = setuptools["package-data"]["soundedit.weights"]
    assert "registry.toml" in shipped and any(s.startswith("soundscapes/") for s in shipped)


def test_the_shipped_weights_are_found_inside_an_installed_package():
    from soundedit import hub

    # a checkout: the repository's weights/; a wheel: soundedit/weights (pyproject maps it)
    assert hub.SHIPPED_WEIGHTS in (ROOT / "weights", ROOT / "soundedit" / "weights")
    assert (hub.SHIPPED_WEIGHTS / "registry.toml").is_file()
