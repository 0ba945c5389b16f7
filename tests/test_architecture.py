"""The shape of the code, read from its source with ``ast`` (nothing is imported or run).

- the engine (``soundedit.edit``, ``soundedit.bundle``) never imports a world
  (``soundedit.soundscapes``): worlds reach it through the bundle's hooks;
- the library never imports gradio or the app (``demo``);
- no two modules import each other, directly or through others (imports inside functions count);
- no function of the library or the app is longer than :data:`MAX_FUNCTION_LINES` lines;
- no test reaches a private name (``_name``) of the library or the app;
- imports sit at the top of their module, except those of :data:`LATE_IMPORTS`, each with the
  reason it must wait (and every entry there still names an import that exists).
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


def package_name(path: Path, name: str) -> str:
    """The package a module's relative imports start from."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def from_module(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from ... import``, relative imports resolved against ``package``."""
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
    return base


def imported_modules(path: Path, name: str, known=None) -> set[str]:
    """Every module ``path`` imports, anywhere in the file.

    ``from a import b`` counts as importing ``a.b`` when that is a module of ``known``, else ``a``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = package_name(path, name)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = from_module(node, package)
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


# ---- imports at the top ------------------------------------------------------------------------

START_UP = (
    "start-up: importing it takes seconds (open_clip brings timm and torchvision), and neither "
    "`import soundedit` nor `soundedit --help` needs it"
)
HTTP = "start-up: huggingface_hub loads an HTTP stack (httpx) that only hf:// weights use"
OPTIONAL = "optional package: soundedit works without it (nltk: WordNet synonyms)"
CUDA_BUILD = (
    "optional: building the CUDA ops needs ninja and a CUDA toolkit; torch's builder warns "
    "when imported without them"
)
SPACES = "optional package: spaces exists only on Hugging Face ZeroGPU hardware"
GRADIO_INTERNAL = "optional: a Gradio internal that some Gradio versions lack (guarded by try)"

# Imports inside functions, each as (module, function, imported name, reason): the delay is the
# point. ``function`` is the qualified name (``Class.method``, ``outer.inner``); the imported
# name is ``a.b`` for both ``import a.b`` and ``from a import b``.
LATE_IMPORTS: list[tuple[str, str, str, str]] = [
    ("soundedit.encoders.clip", "_open_clip", "open_clip", START_UP),
    ("soundedit.encoders.audio", "AudioEncoder.__init__", "timm", START_UP),
    ("soundedit.hub", "_cached_file", "huggingface_hub.try_to_load_from_cache", HTTP),
    ("soundedit.hub", "_download_hf", "huggingface_hub.hf_hub_download", HTTP),
    ("soundedit.train.textaug", "_wordnet", "nltk.corpus.wordnet", OPTIONAL),
    (
        "soundedit.gan.ops.extension",
        "build_extension",
        "torch.utils.cpp_extension.load",
        CUDA_BUILD,
    ),
    # The command line builds its sub-commands' parsers only when it runs, so that `soundedit`
    # starts without importing every command's dependencies first.
    ("soundedit.cli", "build_parser", "soundedit.edit.commands", START_UP),
    ("soundedit.cli", "build_parser", "soundedit.edit.mapper_commands", START_UP),
    ("soundedit.cli", "build_parser", "soundedit.gan.commands", START_UP),
    ("soundedit.cli", "build_parser", "soundedit.hub_commands", START_UP),
    ("soundedit.cli", "build_parser", "soundedit.soundscapes.commands", START_UP),
    ("soundedit.cli", "build_parser", "soundedit.train.commands", START_UP),
    ("soundedit.edit.bench", "BenchClip.__init__", "open_clip", START_UP),
    ("demo.page.common", "gpu", "spaces", SPACES),
    ("demo.session", "sweep_gradio_cache", "gradio.route_utils.delete_files_created_by_app",
     GRADIO_INTERNAL),
]


def late_imports_in(source: str, module: str, package: str) -> dict[tuple[str, str, str], int]:
    """(module, function, imported name) -> line, for every import inside a function."""
    found = {}

    def visit(node: ast.AST, scope: tuple[str, ...], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                is_function = not isinstance(child, ast.ClassDef)
                visit(child, (*scope, child.name), in_function or is_function)
                continue
            if in_function and isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif in_function and isinstance(child, ast.ImportFrom):
                names = [f"{from_module(child, package)}.{a.name}" for a in child.names]
            else:
                names = []
            for name in names:
                found[(module, ".".join(scope), name)] = child.lineno
            visit(child, scope, in_function)

    visit(ast.parse(source), (), False)
    return found


def late_imports(files: dict[str, Path]) -> dict[tuple[str, str, str], int]:
    found = {}
    for name, path in files.items():
        source = path.read_text(encoding="utf-8")
        found.update(late_imports_in(source, name, package_name(path, name)))
    return found


ALL_CODE = {**LIBRARY, **APP, "app": ROOT / "app.py"}


def test_imports_are_at_the_top_unless_listed():
    listed = {entry[:3] for entry in LATE_IMPORTS}
    unlisted = [
        f"{ALL_CODE[module].relative_to(ROOT)}:{line} {function}() imports {name}"
        for (module, function, name), line in sorted(late_imports(ALL_CODE).items())
        if (module, function, name) not in listed
    ]
    assert unlisted == [], (
        "move these imports to the top of their module, or list them in LATE_IMPORTS with the "
        "reason they must wait"
    )


def test_every_listed_late_import_exists():
    found = late_imports(ALL_CODE)
    stale = [entry for entry in LATE_IMPORTS if entry[:3] not in found]
    assert stale == [], "these LATE_IMPORTS entries name an import that is gone: remove them"


def test_late_imports_are_listed_once_with_a_reason():
    keys = [entry[:3] for entry in LATE_IMPORTS]
    assert len(keys) == len(set(keys))
    assert all(isinstance(reason, str) and reason.strip() for *_, reason in LATE_IMPORTS)


def test_the_late_import_finder_finds_them():
    source = (
        "import os\n"
        "def f():\n    import json\n    from .sibling import thing\n"
        "class C:\n    import re\n    def m(self):\n        def inner():\n"
        "            from a.b import c, d\n"
    )
    assert late_imports_in(source, "pkg.mod", "pkg") == {
        ("pkg.mod", "f", "json"): 3,
        ("pkg.mod", "f", "pkg.sibling.thing"): 4,
        ("pkg.mod", "C.m.inner", "a.b.c"): 9,
        ("pkg.mod", "C.m.inner", "a.b.d"): 9,
    }
