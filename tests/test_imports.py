"""The package's modules import one another without a cycle, counting every import a module can
run: at its top, inside a function, in a `try`; only imports for type checkers are left out."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bitopia_site"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes inside `if TYPE_CHECKING:` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return hidden


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that the module at `path` imports, wherever in it the import is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_checker_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n"
                      "def f():\n    from y import z\n", encoding="utf-8")
    tree = ast.parse(module.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    seen = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            and id(node) not in hidden for alias in node.names}
    assert seen == {"TYPE_CHECKING", "z"}


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "bitopia_site.build" in graph and graph["bitopia_site.cli"], "the graph reads the package"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_dev_server_knows_no_pipeline_module() -> None:
    """serve/ takes a builder (serve.server.Builder) and imports nothing of the pipeline: only its own
    modules, the error type it shows, how counts are written, and the config file names its watcher
    listens for."""
    graph = import_graph()
    allowed = {"bitopia_site.errors", "bitopia_site.wording", "bitopia_site.config"}
    for module, targets in graph.items():
        if module.startswith("bitopia_site.serve"):
            outside = {t for t in targets if not t.startswith("bitopia_site.serve")} - allowed
            assert not outside, f"{module} imports {sorted(outside)}"
    assert graph["bitopia_site.serve.server"] <= {m for m in graph if m.startswith("bitopia_site.serve")} | {
        "bitopia_site.errors", "bitopia_site.wording"}
