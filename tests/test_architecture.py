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
TO_MOVE = "to move: its module is being rewritten"

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
    # to move: edit/, demo/, settings.py, bundle.py, cli.py, soundscapes/training.py, app.py
    # (whoever finishes one of these removes its lines, or gives a line its real reason)
    ("app", "default_device", "torch", TO_MOVE),
    ("app", "main", "demo.WorldCatalog", TO_MOVE),
    ("app", "main", "demo.build_demo", TO_MOVE),
    ("app", "main", "demo.launch_options", TO_MOVE),
    ("app", "main", "demo.queue_options", TO_MOVE),
    ("app", "bench", "demo.bench.time_page", TO_MOVE),
    ("app", "bench", "demo.errors.plain_message", TO_MOVE),
    ("demo.bench", "time_page", "soundedit.edit.pipeline.run_to_end", TO_MOVE),
    ("demo.bench", "time_page", "soundedit.settings.EditRequest", TO_MOVE),
    ("demo.form", "build_request", "soundedit.settings.EditRequest", TO_MOVE),
    ("demo.handlers", "Handlers.hear", "demo.sound.preview_of", TO_MOVE),
    ("demo.handlers", "Handlers.hear", "demo.sound.recognition_note", TO_MOVE),
    ("demo.handlers", "Handlers.hear", "demo.sound.shape_sound", TO_MOVE),
    ("demo.handlers", "Handlers.show_source", "soundedit.edit.pipeline.render_latent", TO_MOVE),
    ("demo.handlers", "Handlers.show_source", "soundedit.edit.pipeline.source_latent", TO_MOVE),
    ("demo.handlers", "Handlers.show_source", "soundedit.settings.EditRequest", TO_MOVE),
    ("demo.handlers", "Handlers._stream", "soundedit.edit.pipeline.run_edit", TO_MOVE),
    ("demo.handlers", "Handlers._downloads", "soundedit.edit.pipeline.write_result", TO_MOVE),
    ("demo.handlers", "Handlers.interpolate", "soundedit.edit.mixing.interpolate", TO_MOVE),
    ("demo.handlers", "Handlers.interpolate", "soundedit.edit.pipeline.render_latent", TO_MOVE),
    ("demo.handlers", "_photo_preview", "torch", TO_MOVE),
    ("demo.handlers", "_photo_preview", "soundedit.edit.project.load_image", TO_MOVE),
    ("demo.layout", "gpu", "spaces", TO_MOVE),
    ("demo.reproduce", "write_settings", "soundedit.config.to_dict", TO_MOVE),
    ("demo.reproduce", "write_settings", "soundedit.edit.commands.reproduce_command", TO_MOVE),
    ("demo.reproduce", "write_settings", "soundedit.settings.resolve", TO_MOVE),
    (
        "demo.session",
        "sweep_gradio_cache",
        "gradio.route_utils.delete_files_created_by_app",
        TO_MOVE,
    ),
    ("demo.sound", "shape_sound", "soundedit.audio.io.load_sound", TO_MOVE),
    ("demo.sound", "shape_sound", "soundedit.audio.shape.apply_gain", TO_MOVE),
    ("demo.sound", "shape_sound", "soundedit.audio.shape.mix", TO_MOVE),
    ("demo.sound", "recognition_note", "torch", TO_MOVE),
    ("demo.sound", "recognition_note", "soundedit.audio.signal.check_signal", TO_MOVE),
    ("demo.sound", "recognition_note", "soundedit.edit.pipeline.non_sound_message", TO_MOVE),
    ("demo.sound", "recognition_note", "soundedit.edit.pipeline.unknown_sound_message", TO_MOVE),
    ("demo.sound", "recognition_note", "soundedit.encoders.audio.embed_sound", TO_MOVE),
    ("demo.worlds", "WorldCatalog.__init__", "soundedit.bundle", TO_MOVE),
    ("demo.worlds", "_registry_details", "soundedit.hub.load_registry", TO_MOVE),
    ("soundedit.bundle", "load_bundle", "torch", TO_MOVE),
    ("soundedit.bundle", "_registry", "soundedit.hub.load_registry", TO_MOVE),
    ("soundedit.bundle", "_registry_status", "soundedit.hub.entry_status", TO_MOVE),
    (
        "soundedit.bundle",
        "_load_registry_bundle",
        "soundedit.gan.checkpoints.load_generator",
        TO_MOVE,
    ),
    ("soundedit.bundle", "_load_registry_bundle", "soundedit.hub.resolve", TO_MOVE),
    (
        "soundedit.bundle",
        "_load_encoders",
        "soundedit.encoders.audio.load_authors_checkpoint",
        TO_MOVE,
    ),
    ("soundedit.bundle", "_load_encoders", "soundedit.encoders.clip.ClipBridge", TO_MOVE),
    ("soundedit.bundle", "_load_encoders", "soundedit.encoders.identity.IdentityModel", TO_MOVE),
    ("soundedit.bundle", "_load_encoders", "soundedit.encoders.identity.load_ir_se50", TO_MOVE),
    (
        "soundedit.bundle",
        "bundle_from_checkpoint",
        "soundedit.gan.checkpoints.load_generator",
        TO_MOVE,
    ),
    ("soundedit.bundle", "bundle_from_checkpoint", "torch", TO_MOVE),
    ("soundedit.bundle", "bundle_from_checkpoint", "soundedit.hub.resolve", TO_MOVE),
    ("soundedit.cli", "build_parser", "soundedit.hub_commands", TO_MOVE),
    ("soundedit.cli", "build_parser", "soundedit.edit.commands", TO_MOVE),
    ("soundedit.cli", "build_parser", "soundedit.gan.commands", TO_MOVE),
    ("soundedit.cli", "build_parser", "soundedit.soundscapes.commands", TO_MOVE),
    ("soundedit.cli", "build_parser", "soundedit.train.commands", TO_MOVE),
    ("soundedit.edit.bench", "BenchClip.__init__", "open_clip", TO_MOVE),
    ("soundedit.edit.bench", "_config_f", "soundedit.gan.stylegan2.Generator", TO_MOVE),
    ("soundedit.edit.bench", "_config_f", "soundedit.gan.stylegan2.GeneratorConfig", TO_MOVE),
    ("soundedit.edit.commands", "_limited", "soundedit.edit.limits.argparse_type", TO_MOVE),
    ("soundedit.edit.commands", "_range", "soundedit.edit.limits.LIMITS", TO_MOVE),
    ("soundedit.edit.commands", "_register_bench", "soundedit.edit.bench.CONFIGS", TO_MOVE),
    ("soundedit.edit.commands", "request_from_args", "soundedit.settings.EditRequest", TO_MOVE),
    (
        "soundedit.edit.commands",
        "run_edit_command",
        "soundedit.bundle.bundle_from_checkpoint",
        TO_MOVE,
    ),
    ("soundedit.edit.commands", "run_edit_command", "soundedit.bundle.load_bundle", TO_MOVE),
    ("soundedit.edit.commands", "run_edit_command", "soundedit.edit.pipeline.run_edit", TO_MOVE),
    (
        "soundedit.edit.commands",
        "run_edit_command",
        "soundedit.edit.pipeline.write_result",
        TO_MOVE,
    ),
    ("soundedit.edit.commands", "run_bench_command", "soundedit.edit.bench.CONFIGS", TO_MOVE),
    ("soundedit.edit.commands", "run_bench_command", "soundedit.edit.bench.run_bench", TO_MOVE),
    ("soundedit.edit.latents", "_reason", "pickle", TO_MOVE),
    ("soundedit.edit.latents", "_read", "safetensors.torch.load_file", TO_MOVE),
    ("soundedit.edit.pipeline", "_shaped_sound", "soundedit.audio.io.load_sound", TO_MOVE),
    ("soundedit.edit.pipeline", "_shaped_sound", "soundedit.audio.shape.apply_gain", TO_MOVE),
    ("soundedit.edit.pipeline", "_shaped_sound", "soundedit.audio.shape.mix", TO_MOVE),
    ("soundedit.edit.pipeline", "_embed", "soundedit.encoders.audio.embed_sound", TO_MOVE),
    ("soundedit.edit.pipeline", "_source", "soundedit.edit.project.Projection", TO_MOVE),
    ("soundedit.edit.pipeline", "_source", "soundedit.edit.project.projection_seconds", TO_MOVE),
    ("soundedit.edit.pipeline", "write_result", "PIL.Image", TO_MOVE),
    ("soundedit.edit.pipeline", "write_result", "safetensors.torch.save_file", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "previous_runs",
        "soundedit.weights_io.load_record",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "train_probe", "soundedit.soundscapes.probe.Probe", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "train_probe",
        "soundedit.soundscapes.probe.load_probe",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_probe",
        "soundedit.soundscapes.probe.save_probe",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "build_generator",
        "soundedit.gan.stylegan2.Generator",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "build_generator",
        "soundedit.gan.stylegan2.config_from_dict",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_generator",
        "soundedit.gan.checkpoints.save_generator",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "_GeneratorRun.__init__",
        "soundedit.gan.checkpoints.load_generator",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "_GeneratorRun.snapshot",
        "soundedit.gan.checkpoints.save_generator",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "paired_loss",
        "soundedit.soundscapes.params.params_from_z",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "event_weights",
        "soundedit.soundscapes.params.INDEX",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "event_weights",
        "soundedit.soundscapes.params.SPARSE",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "event_mask", "soundedit.soundscapes.params.INDEX", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "event_mask",
        "soundedit.soundscapes.params.SPARSE",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "build_tiny_clip", "open_clip", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "clip_normalize",
        "open_clip.constants.OPENAI_DATASET_MEAN",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "clip_normalize",
        "open_clip.constants.OPENAI_DATASET_STD",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "tokenize", "open_clip", TO_MOVE),
    ("soundedit.soundscapes.training", "train_clip", "open_clip.loss.ClipLoss", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "train_clip",
        "soundedit.soundscapes.captions.captions",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "train_clip", "soundedit.weights_io.load_weights", TO_MOVE),
    ("soundedit.soundscapes.training", "save_clip", "soundedit.weights_io.save_weights", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "clip_zero_shot",
        "soundedit.soundscapes.captions.CLASS_PROMPTS",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "clip_zero_shot",
        "soundedit.soundscapes.params.CLASSES",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "clip_zero_shot",
        "soundedit.soundscapes.params.sample_for_class",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "scene_items",
        "soundedit.soundscapes.captions.captions",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "scene_items",
        "soundedit.soundscapes.params.CLASSES",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "scene_items",
        "soundedit.soundscapes.params.dominant_class",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "scene_items",
        "soundedit.soundscapes.params.sample_for_class",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "scene_items", "soundedit.soundscapes.synth.RATE", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "scene_items",
        "soundedit.soundscapes.synth.synthesize",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "scene_items", "soundedit.train.TrainItem", TO_MOVE),
    ("soundedit.soundscapes.training", "record_some", "dataclasses", TO_MOVE),
    ("soundedit.soundscapes.training", "record_some", "numpy", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "record_some",
        "soundedit.audio.recording.DEFAULT_CHAIN",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "record_some",
        "soundedit.audio.recording.simulate_recording",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_audio",
        "soundedit.encoders.audio.load_audio_encoder",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_audio",
        "soundedit.encoders.audio.save_audio_encoder",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_audio",
        "soundedit.train.train_audio_encoder",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_audio",
        "soundedit.soundscapes.realworld.read_clips",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_audio",
        "soundedit.soundscapes.realworld.real_items",
        TO_MOVE,
    ),
    ("soundedit.soundscapes.training", "_audio_config", "soundedit.train.LossConfig", TO_MOVE),
    ("soundedit.soundscapes.training", "_audio_config", "soundedit.train.TrainConfig", TO_MOVE),
    (
        "soundedit.soundscapes.training",
        "train_recogniser",
        "soundedit.soundscapes.recognise.ACCEPT",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_recogniser",
        "soundedit.soundscapes.recognise.fit_recogniser",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "train_recogniser",
        "soundedit.soundscapes.recognise.save_recogniser",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "recogniser_data",
        "soundedit.encoders.audio.load_audio_encoder",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "recogniser_data",
        "soundedit.soundscapes.captions.CLASS_PROMPTS",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "recogniser_data",
        "soundedit.soundscapes.realworld.read_clips",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "_whole_and_takes",
        "soundedit.soundscapes.realworld.CLIP_SAMPLES",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "_whole_and_takes",
        "soundedit.soundscapes.realworld.real_takes",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "embed_sounds",
        "soundedit.audio.features.compute_features_batch",
        TO_MOVE,
    ),
    (
        "soundedit.soundscapes.training",
        "embed_sounds",
        "soundedit.train.evaluate.embed_features",
        TO_MOVE,
    ),
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
