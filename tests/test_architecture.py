"""The shape of the code (issue 14): what may import what, and that importing does nothing.

- the live-agent service (liveagent/) and content/ never import the action server's package: what
  they share with it is in lumo_shared/, which imports no package of the project;
- importing the project's packages changes no global logging state: masking and quiet tracebacks are
  installed by each process's entry point, never by an import;
- the project's packages depend on each other without a cycle.

Imports are read from the source (the AST), so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from tests.conftest import ROOT

# Top-level packages (and the scripts directory) of the project whose dependencies are checked.
PROJECT_PACKAGES = ("actions", "liveagent", "content", "lumo_shared", "components", "rasa_runtime", "scripts")
# The packages the processes import (the service, the action server, the editor's content code).
PROCESS_PACKAGES = ("lumo_shared", "actions", "content", "liveagent")


def python_files(package: str) -> List[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, module: Optional[str] = None) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import in ``path`` (the module ``module``), relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield node.lineno, base


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def test_the_service_and_content_never_import_the_action_server_package():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for package in ("liveagent", "content")
        for path in python_files(package)
        for line, name in imported_modules(path)
        if top_level(name) == "actions"
    ]
    assert offending == []


def test_the_shared_package_imports_no_package_of_the_project():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in python_files("lumo_shared")
        for line, name in imported_modules(path)
        if top_level(name) in PROJECT_PACKAGES and top_level(name) != "lumo_shared"
    ]
    assert offending == []


def test_the_checks_see_the_imports_they_look_for(tmp_path):
    """The control: the AST reading finds plain, from, relative and function-level imports."""
    source = tmp_path / "views.py"
    source.write_text("import actions.settings\nfrom actions import handoff\nfrom . import copy\n"
                      "from ..content import missed\n\ndef later():\n    from .store import audit\n",
                      encoding="utf-8")
    assert [name for _, name in imported_modules(source, "liveagent.blueprints.views")] == [
        "actions.settings", "actions", "liveagent.blueprints", "liveagent.content", "liveagent.blueprints.store"]
    lazy = {name for _, name in imported_modules(ROOT / "actions" / "server.py")}
    assert "rasa_sdk.endpoint" in lazy  # imported inside create_app


_IMPORT_EVERYTHING = """
import importlib, json, logging, pkgutil, sys

def state():
    root = logging.getLogger()
    ours = {
        name: [logger.level, len(logger.handlers), logger.propagate, logger.disabled]
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.split(".")[0] in PACKAGES
    }
    return {
        "record_factory": repr(logging.getLogRecordFactory()),
        "logger_class": repr(logging.getLoggerClass()),
        "root_handlers": [repr(handler) for handler in root.handlers],
        "root_level": root.level,
        "disable": logging.root.manager.disable,
        "configured_project_loggers": {name: s for name, s in ours.items() if s != [0, 0, True, False]},
    }

PACKAGES = json.loads(sys.argv[1])
before = state()
imported = []
for package in PACKAGES:
    module = importlib.import_module(package)
    imported.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if ".migrations" in info.name:  # Alembic's env.py runs a migration when imported, by design
            continue
        importlib.import_module(info.name)
        imported.append(info.name)
print(json.dumps({"before": before, "after": state(), "imported": imported}))
"""


def test_importing_the_packages_changes_no_global_logging_state():
    """Every module of the service, the action server, content/ and lumo_shared, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _IMPORT_EVERYTHING, json.dumps(PROCESS_PACKAGES)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["after"] == result["before"]
    assert result["before"]["record_factory"] == repr(__import__("logging").LogRecord)
    # the control: every package and the modules that install logging at their entry points were imported
    assert {"actions", "actions.server", "liveagent", "liveagent.__main__", "content", "lumo_shared.privacy",
            "content.missed"} <= set(result["imported"])


def package_dependencies() -> Dict[str, Set[str]]:
    """Top-level package -> the other project packages its modules import."""
    graph: Dict[str, Set[str]] = {package: set() for package in PROJECT_PACKAGES}
    for package in PROJECT_PACKAGES:
        for path in python_files(package):
            for _, name in imported_modules(path):
                target = top_level(name)
                if target in PROJECT_PACKAGES and target != package:
                    graph[package].add(target)
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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


def test_cycles_finds_a_cycle():
    """The control for the check below."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_packages_depend_on_each_other_without_a_cycle():
    graph = package_dependencies()
    assert cycles(graph) == [], {package: sorted(targets) for package, targets in graph.items()}
    # the intended direction: the service uses content/ and the shared contracts, never the reverse
    assert "lumo_shared" in graph["liveagent"] and "lumo_shared" in graph["actions"]
    assert graph["lumo_shared"] == set()
