"""The store package has no import cycle: repositories never import the Store or the package back.

Read statically (ast), so a cycle that happens to import fine in today's order still fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = "liveagent.store"
FOLDER = Path(__file__).resolve().parents[3] / "liveagent" / "store"


def imported_modules(path: Path) -> Set[str]:
    """The modules of liveagent.store that ``path`` imports (``from liveagent.store import x`` counts as
    importing the package itself)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            found.add(node.module)
    return found


def graph() -> Dict[str, Set[str]]:
    modules = {f"{PACKAGE}.{path.stem}": path for path in FOLDER.glob("*.py") if path.stem != "__init__"}
    return {name: imported_modules(path) for name, path in modules.items()}


def test_no_module_imports_the_store_or_the_package_back():
    offenders = {name: sorted(imports & {PACKAGE, f"{PACKAGE}.store"})
                 for name, imports in graph().items() if name != f"{PACKAGE}.store"}
    assert {name: found for name, found in offenders.items() if found} == {}
    assert PACKAGE not in graph()[f"{PACKAGE}.store"]


def test_the_modules_of_the_store_import_each_other_without_a_cycle():
    edges = graph()
    done: Set[str] = set()

    def visit(name: str, path: List[str]) -> None:
        assert name not in path, " -> ".join(path + [name])
        if name in done:
            return
        for imported in sorted(edges.get(name, ())):
            visit(imported, path + [name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
