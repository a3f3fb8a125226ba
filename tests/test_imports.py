"""The modules of reflexion/ import each other one way: no cycle, imports at the top of files.

The graph is built from the source (AST), imports inside functions included, so a cycle cannot
hide behind a function-level import. ``from package import name`` counts as importing the
module ``package.name`` when there is one, else ``package`` itself.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reflexion"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(node, module: str, is_package: bool, modules) -> list[str]:
    """Our modules that an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append(name)
    return found


def import_graph():
    """``{module: {imported module: [line numbers]}}``, and the imports below the top level (ours or not)."""
    modules = _modules()
    graph, inner = {}, []
    for module, path in modules.items():
        source = path.read_text()
        tree = ast.parse(source)
        edges: dict[str, list[int]] = {}
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = _imported(node, module, path.name == "__init__.py", modules)
                for target in targets:
                    edges.setdefault(target, []).append(node.lineno)
                if id(node) not in top_level:
                    inner.append((path, node.lineno))
        graph[module] = edges
    return graph, inner


def find_cycle(graph) -> list[str] | None:
    """One cycle in ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module):
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, {})):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_among_our_modules():
    graph, _ = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(
        f"{a} (line {graph[a][b][0]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_the_cycle_finder_finds_a_cycle():
    """The check above is not vacuous: a two-module and a three-module cycle are reported."""
    assert find_cycle({"a": {"b": [1]}, "b": {"a": [2]}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b": [1]}, "b": {"c": [1]}, "c": {"a": [1]}, "d": {}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": [1]}, "b": {}, "c": {"a": [1]}}) is None


def test_function_level_imports_give_their_reason():
    """Imports go at the top of a file; one inside a function carries a comment saying why."""
    _, inner = import_graph()
    unexplained = []
    for path, lineno in inner:
        lines = path.read_text().splitlines()
        line = lines[lineno - 1]
        above = lineno - 2  # the reason may head a block of imports
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            above -= 1
        if "#" not in line and not (above >= 0 and lines[above].strip().startswith("#")):
            unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{lineno}: {line.strip()}")
    assert not unexplained, "function-level imports without a reason:\n" + "\n".join(unexplained)
