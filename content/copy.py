"""Finnish copy books: texts live in YAML files next to the code that shows them, never in Python."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, Optional

import yaml


class CopyBook:
    """Dotted-key access ("publish.failed.test") to one YAML file of texts, with {placeholders}."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @functools.cached_property
    def data(self) -> Dict[str, Any]:
        with open(self.path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)

    def lookup(self, key: str) -> Optional[str]:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return str(node)

    def text(self, key: str, **values: Any) -> str:
        found = self.lookup(key)
        if found is None:
            raise KeyError(f"no text {key!r} in {self.path.name}")
        return found.format(**values) if values else found


BOOK = CopyBook(Path(__file__).with_name("copy_fi.yml"))


def text(key: str, **values: Any) -> str:
    return BOOK.text(key, **values)
