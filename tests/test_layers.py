"""The package's floors: every import (inside functions too) points down or sideways, never up, and no
module imports another in a circle. docs/architecture.md says what each layer owns."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own layer and the layers below it; a new module must be declared
# here (by itself or through its package). "ner_demo" alone is the package's __init__ (its version).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("ner_demo", "ner_demo.errors", "ner_demo.labels", "ner_demo.spans", "ner_demo.decoding",
              "ner_demo.scripts")),
    ("data", ("ner_demo.data",)),
    ("encoding/models", ("ner_demo.fast_tokenizer", "ner_demo.encoding", "ner_demo.models")),
    ("backends", ("ner_demo.backends",)),
    # Making and caching an ONNX graph checks it against PyTorch only: the Tagger uses the cache for an
    # onnx-* backend, so export sits below inference. Choosing a backend on dev data is ner_demo.serving.
    ("export", ("ner_demo.export",)),
    ("inference", ("ner_demo.inference",)),
    ("evaluation", ("ner_demo.evaluation",)),
    ("serving", ("ner_demo.serving",)),  # which backend serves a model: scored on dev, so above evaluation
    ("corpus", ("ner_demo.corpus",)),  # tag-corpus: streamed readers, shards, engines; runs the Tagger
    # Annotation datasets are a training data source (annotation:<name>), so annotation sits below training;
    # it needs nothing of training (the loop's fine-tuning is started from the CLI and the app).
    ("annotation", ("ner_demo.annotation",)),
    ("training", ("ner_demo.training",)),
    ("plots", ("ner_demo.plots",)),  # every plotly figure: draws evaluation, data and training results
    ("report", ("ner_demo.report",)),  # the HTML evaluation report: tables and the plots' figures
    ("cli", ("ner_demo.cli", "ner_demo.__main__")),
    ("app", ("app", "ner_demo.app")),  # the Gradio layer: one module per tab, formatting beside it
]

# Known violations, each (importer, imported) as files with the reason it is allowed; none are left. An
# entry that stops being a violation fails the test, so that this list only shrinks.
ALLOWED: dict[tuple[str, str], str] = {}

GUI = ("gradio", "gradio_client")


def _files() -> dict[str, Path]:
    """Module name -> file, for the package and the root app.py."""
    files = {"app": ROOT / "app.py"} if (ROOT / "app.py").is_file() else {}
    for path in sorted((ROOT / "ner_demo").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


FILES = _files()


def _rel(module: str) -> str:
    return FILES[module].relative_to(ROOT).as_posix()


def _imported_names(module: str, tree: ast.AST) -> list[str]:
    """Every name ``module`` imports, wherever the import statement sits; ``importlib.import_module`` with
    a literal name counts as well, so that a string cannot hide an arrow."""
    package = module if FILES[module].name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.append(node.args[0].value)
    return names


def _module_of(name: str) -> str | None:
    """The project module an imported name lands in (``ner_demo.data.read_conll`` -> ``ner_demo.data``)."""
    while name:
        if name in FILES:
            return name
        name = name.rpartition(".")[0]
    return None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in FILES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {_module_of(n) for n in _imported_names(module, tree)}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _layer(module: str) -> int:
    matches = [(len(prefix), i) for i, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or (prefix != "ner_demo" and module.startswith(prefix + "."))]
    if not matches:
        pytest.fail(f"{_rel(module)}: in no layer; declare it in LAYERS in tests/test_layers.py")
    return max(matches)[1]


def _on_a_cycle(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The arrows that lie on a circle: both ends in one strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    component: dict[str, int] = {}

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w not in component:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                component[w] = index[v]
                if w == v:
                    break

    for v in graph:
        if v not in index:
            visit(v)
    return {(a, b) for a in graph for b in graph[a] if component[a] == component[b]}


GRAPH = _graph()


def _upward() -> set[tuple[str, str]]:
    return {(a, b) for a, targets in GRAPH.items() for b in targets if _layer(b) > _layer(a)}


def _as_files(arrows) -> set[tuple[str, str]]:
    return {(_rel(a), _rel(b)) for a, b in arrows}


def test_every_module_is_in_a_layer():
    for module in GRAPH:
        _layer(module)


def test_no_module_imports_a_layer_above_its_own():
    found = _as_files(_upward()) - set(ALLOWED)
    layer_name = {_rel(m): LAYERS[_layer(m)][0] for m in FILES}
    assert not found, "upward imports (importer -> imported): " + "; ".join(
        f"{a} ({layer_name[a]}) imports {b} ({layer_name[b]})" for a, b in sorted(found))


def test_no_module_imports_another_in_a_circle():
    """Without the allowed arrows the graph has no circle, and each allowed arrow closes one."""
    allowed = {(a, b) for a in GRAPH for b in GRAPH[a] if (_rel(a), _rel(b)) in ALLOWED}
    rest = {a: {b for b in targets if (a, b) not in allowed} for a, targets in GRAPH.items()}
    found = _as_files(_on_a_cycle(rest))
    assert not found, "imports in a circle (importer -> imported): " + "; ".join(
        f"{a} imports {b}" for a, b in sorted(found))


def test_the_allowed_violations_are_still_violations():
    """When a known violation is fixed, its entry must leave ALLOWED: the list only shrinks."""
    violations = _as_files(_upward() | _on_a_cycle(GRAPH))
    gone = sorted(set(ALLOWED) - violations)
    assert not gone, "fixed, so remove from ALLOWED in tests/test_layers.py: " + "; ".join(
        f"{a} -> {b}" for a, b in gone)


def test_only_the_app_layer_imports_gradio():
    app = len(LAYERS) - 1
    offenders = []
    for module, path in FILES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _layer(module) != app and any(n.split(".")[0] in GUI for n in _imported_names(module, tree)):
            offenders.append(_rel(module))
    assert offenders == []


def test_the_layer_check_sees_imports_inside_functions(tmp_path):
    tree = ast.parse("def f():\n    from ner_demo.inference import Tagger\n    import ner_demo.training.runs\n")
    assert _imported_names("ner_demo.labels", tree) == [
        "ner_demo.inference", "ner_demo.inference.Tagger", "ner_demo.training.runs"]


def test_the_layer_check_resolves_relative_imports():
    tree = ast.parse("from . import conll\nfrom ..labels import LabelSet\n")
    assert [_module_of(n) for n in _imported_names("ner_demo.data.sources", tree)] == [
        "ner_demo.data", "ner_demo.data.conll", "ner_demo.labels", "ner_demo.labels"]


def test_a_circle_is_found_with_both_files():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _on_a_cycle(graph) == {("a", "b"), ("b", "c"), ("c", "a")}


@pytest.mark.parametrize("module", ["ner_demo.cli", "ner_demo.inference"])
def test_heavy_dependencies_load_only_when_used(module):
    """The CLI's parser (every command, --help included) and the Tagger's module start without torch,
    transformers, seqeval or the app's libraries: each is deferred to the function that needs it."""
    code = (f"import sys, {module} as m\n"
            "getattr(m, 'build_parser', lambda: None)()\n"
            "heavy = ('torch', 'transformers', 'seqeval', 'onnxruntime', 'gradio', 'datasets', 'plotly', 'pandas')\n"
            "print(sorted(h for h in heavy if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
