"""The package's own imports: no cycle among the top-level imports of its modules, and the light
commands start without the heavy dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import toolkit

PACKAGE = Path(toolkit.__file__).resolve().parent
ROOT = PACKAGE.parent
SAMPLE = ROOT / "examples" / "sample_report.txt"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: at module level, also inside a top-level ``if``
    or ``try``, but not in functions, classes or ``if TYPE_CHECKING:``."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not is_type_checking(node):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
    return found


def every_import(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import of a module, also inside functions and classes (run when they are called), but
    not under ``if TYPE_CHECKING:``."""
    found, todo = [], [tree]
    while todo:
        for child in ast.iter_child_nodes(todo.pop()):
            if isinstance(child, ast.If) and is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            todo.append(child)
    return found


def import_graph(imports=top_level_imports) -> dict[str, set[str]]:
    """``{module: the toolkit modules it imports}`` (``imports``: which of its imports count)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, set())
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in modules)
            elif node.level == 0 and node.module and node.module.split(".")[0] == "toolkit":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges.add(sub if sub in modules else node.module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_package_and_its_edges():
    graph = import_graph()
    assert {"toolkit.cli", "toolkit.cli.common", "toolkit.labelstudio.backend", "toolkit.active.suggest"} <= set(graph)
    assert "toolkit.fileio" in graph["toolkit.store"] and "toolkit.nearduplicates" in graph["toolkit.segment"]
    assert "toolkit.cli.modelling" in graph["toolkit.cli"]  # 'from toolkit.cli import modelling' names the module


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_the_package_modules():
    assert find_cycle(import_graph()) is None


def test_no_import_cycle_even_through_imports_inside_functions():
    """The house reads bottom-up: an import inside a function is still an edge (the model knows
    nothing of tagging runs, the features nothing of the model)."""
    graph = import_graph(every_import)
    assert "toolkit.tagging" not in graph["toolkit.model"] and "toolkit.model" not in graph["toolkit.features"]
    assert find_cycle(graph) is None


def test_tag_starts_without_scikit_learn_the_sdk_or_matplotlib():
    probe = ("import sys; from toolkit.cli import main; code = main(['tag', sys.argv[1]]); "
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'label_studio_sdk', 'matplotlib'}); "
             "print(code, heavy, file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", probe, str(SAMPLE)], capture_output=True, text=True, check=True)
    assert run.stderr.splitlines()[-1] == "0 []" and run.stdout.count("\n") > 10
