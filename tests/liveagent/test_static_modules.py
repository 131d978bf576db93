"""The browser code's shared modules: their unit tests (node --test tests/js), one copy of every helper,
and the widget bundle built from the current modules."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

from tests.conftest import ROOT

STATIC = ROOT / "liveagent" / "static"
BUNDLE = STATIC / "dist" / "widget.js"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
FUNCTION = re.compile(r"^[ \t]*(?:export )?(?:async )?function (\w+)\(", re.M)


def sources() -> Dict[str, str]:
    """Every script the pages are made of (not the vendored Socket.IO client, not the built bundle)."""
    return {str(p.relative_to(STATIC)): p.read_text(encoding="utf-8") for p in sorted(STATIC.rglob("*.js"))
            if p.relative_to(STATIC).parts[0] not in ("vendor", "dist")}


def function_bodies(source: str) -> Dict[str, str]:
    """name -> the function's text up to its closing brace at the same indentation, whitespace removed."""
    bodies = {}
    for match in FUNCTION.finditer(source):
        indent = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip())]
        end = source.find("\n" + indent + "}", match.end())
        bodies[match.group(1)] = re.sub(r"\s+", "", source[match.start():end])
    return bodies


def test_the_shared_modules_pass_their_unit_tests():
    result = subprocess.run(["node", "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, re.M) and re.search(r"^# fail 0$", result.stdout, re.M)


def test_no_helper_is_defined_in_two_files():
    files = sources()
    lib = {name for path, text in files.items() if path.startswith("lib/") for name in FUNCTION.findall(text)}
    assert {"el", "str", "linkified", "linkParts", "jsonClient", "format"} <= lib
    homes: Dict[str, List[str]] = defaultdict(list)
    same_body: Dict[str, List[str]] = defaultdict(list)
    for path, text in files.items():
        for name, body in function_bodies(text).items():
            homes[name].append(path)
            if len(body) > 80:  # a one-liner like `() => x` may well recur
                same_body[body].append(f"{path}:{name}")
    assert {name: paths for name, paths in homes.items() if name in lib and len(paths) > 1} == {}
    assert [places for places in same_body.values() if len(places) > 1] == []


def test_pages_load_the_modules():
    for page, entry in (("agent", "/static/agent/main.js"), ("editor", "/static/editor/main.js")):
        html = (STATIC / f"{page}.html").read_text(encoding="utf-8")
        assert f'<script type="module" src="{entry}"></script>' in html
        assert '<link rel="stylesheet" href="/static/base.css">' in html
    assert '<script src="/static/dist/widget.js" defer></script>' in (STATIC / "index.html").read_text("utf-8")
    assert (STATIC / "copy" / "widget.fi.json").is_file()


def test_the_widget_bundle_is_built_from_the_current_modules(tmp_path: Path):
    assert ESBUILD.exists(), "node_modules is missing: `make widget` (npm ci + esbuild) builds the widget"
    assert BUNDLE.exists(), "liveagent/static/dist/widget.js is missing: run `make widget`"
    script = subprocess.run(["npm", "run", "--silent", "build", "--", f"--outfile={tmp_path / 'widget.js'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert script.returncode == 0, script.stderr
    assert (tmp_path / "widget.js").read_text(encoding="utf-8") == BUNDLE.read_text(encoding="utf-8"), \
        "dist/widget.js is older than its modules: run `make widget`"


def code_only(source: str) -> str:
    """The source without comments and quoted strings (template literals stay: their ${...} is code)."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    source = re.sub(r"(?:(?<=\s)|^)//[^\n]*", " ", source, flags=re.M)
    return re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", source)


def test_every_module_imports_the_names_it_uses_from_its_siblings():
    """A page's modules share one scope no longer: a name exported by a sibling and used here must be
    imported (or a module fails only when that code path runs, as a ReferenceError in the browser)."""
    for page in ("agent", "editor", "widget", "lib"):
        modules = {p.name: p.read_text(encoding="utf-8") for p in sorted((STATIC / page).glob("*.js"))}
        exported = {name: module for module, text in modules.items()
                    for name in re.findall(r"^export (?:async )?(?:function|const|let|class) ([\w$]+)", text, re.M)}
        for module, text in modules.items():
            imported = {name.strip() for names in re.findall(r"^import \{([^}]*)\}", text, re.M)
                        for name in names.split(",")}
            local = set(re.findall(r"^(?:export )?(?:async )?(?:function|const|let|class) ([\w$]+)", text, re.M))
            used = set(re.findall(r"(?<![\w$])(?<![^.]\.)([A-Za-z_][\w$]*)(?![\w$])", code_only(text)))
            missing = {name for name in used if name in exported and exported[name] != module} - imported - local
            assert missing == set(), f"{page}/{module} uses {sorted(missing)} without importing them"
