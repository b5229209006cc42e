"""The import graph of the project's packages: no circle, no upward arrow.

Every `import` statement counts, deferred ones inside functions included
(they are how a circle hides). `albert_tf.cli` dispatches to command
modules by name through importlib, which is not an import statement, so
the library never depends on training or serving.
"""

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("albert_tf", "training", "serving", "pipeline")

# Rooms from the bottom up: a module may import modules of its own room or
# of rooms listed before it, never after. The first prefix that matches a
# module name (longest first) gives its room.
ROOMS = [
    ("albert_tf.config", "albert_tf.resources", "albert_tf.cli_flags", "albert_tf.handles"),
    ("albert_tf.layers", "albert_tf.text"),
    ("albert_tf.backbone",),
    ("albert_tf.tasks",),
    ("albert_tf.saving",),
    ("albert_tf.convert", "albert_tf.export"),
    ("albert_tf",),
    ("albert_tf.cli",),
    ("training.config", "training.metrics", "training.squad",
     "training.optimization", "training.distribute", "training.plots", "training.callbacks"),
    ("training.data",),
    ("training.tasks",),
    ("training.loops",),
    ("training",),
    ("serving.client",),
    ("serving.server",),
    ("serving",),
    ("pipeline",),
]


def _room_of(module):
    best = None
    for rank, prefixes in enumerate(ROOMS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (rank, prefix)
    if best is None:
        raise AssertionError(f"module {module} is in no room of tests/test_import_graph.py ROOMS")
    return best[0]


def _modules():
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imports(name, path, known):
    """Project modules imported by module `name` (file `path`)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()

    def add(target):
        # `from a import b` names module a.b when it exists, else a name in a.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_every_module_is_in_a_room(graph):
    for name in graph:
        _room_of(name)


def _upward(graph):
    return [
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in sorted(targets)
        if _room_of(target) > _room_of(source)
    ]


def _circles(graph):
    """Strongly connected components of two or more modules (Tarjan)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_upward_import(graph):
    upward = _upward(graph)
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_import_circle(graph):
    assert not _circles(graph)


def test_client_package_stands_alone(graph):
    """serving/client installs without TensorFlow or albert_tf."""
    outside = {
        f"{source} imports {target}"
        for source, targets in graph.items() if source.startswith("serving.client")
        for target in targets if not target.startswith("serving.client")
    }
    assert not outside


def test_the_checks_catch_a_circle_and_an_upward_arrow():
    bad = {
        "albert_tf.backbone": {"albert_tf.tasks.classifier"},
        "albert_tf.tasks.classifier": {"albert_tf.backbone"},
        "albert_tf.layers.heads": {"albert_tf.config"},
        "albert_tf.config": set(),
    }
    assert _upward(bad) == ["albert_tf.backbone imports albert_tf.tasks.classifier"]
    assert _circles(bad) == [["albert_tf.backbone", "albert_tf.tasks.classifier"]]
    del bad["albert_tf.backbone"]
    assert not _upward(bad) and not _circles(bad)


def test_the_parser_reads_deferred_and_relative_imports(tmp_path):
    source = tmp_path / "server.py"
    source.write_text(
        "from . import errors\nfrom .batching import Batcher\n"
        "def f():\n    from albert_tf.export import task_export\n    import training.tasks\n"
    )
    known = {"serving.server.errors", "serving.server.batching", "albert_tf.export",
             "albert_tf.export.task_export", "training.tasks", "training"}
    assert _imports("serving.server.app", source, known) == {
        "serving.server.errors", "serving.server.batching", "albert_tf.export.task_export", "training.tasks",
    }
