"""Finnish texts of the service, from copy_fi.yml (never written in Python)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

COPY_FILE = Path(__file__).with_name("copy_fi.yml")


@functools.lru_cache(maxsize=1)
def _copy() -> Dict[str, Any]:
    with open(COPY_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def text(key: str, **values: Any) -> str:
    """The text at dotted ``key`` ("status.waiting"), with ``values`` filled in."""
    node: Any = _copy()
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)


def lookup(key: str) -> Optional[str]:
    """The text at ``key``, or None if the copy file has none (e.g. an unknown reason code)."""
    node: Any = _copy()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return str(node)


def weekday_name(index: int) -> str:
    return str(_copy()["weekdays"][index])
