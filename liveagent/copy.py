"""Finnish texts of the service, from copy_fi.yml (never written in Python)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from content.copy import CopyBook

COPY_FILE = Path(__file__).with_name("copy_fi.yml")
BOOK = CopyBook(COPY_FILE)


def text(key: str, **values: Any) -> str:
    """The text at dotted ``key`` ("status.waiting"), with ``values`` filled in."""
    return BOOK.text(key, **values)


def lookup(key: str) -> Optional[str]:
    """The text at ``key``, or None if the copy file has none (e.g. an unknown reason code)."""
    return BOOK.lookup(key)


def weekday_name(index: int) -> str:
    return str(BOOK.data["weekdays"][index])


def count(n: int) -> str:
    """A whole number as Finnish text shows it: "2 000", digits grouped with a no-break space."""
    return f"{n:,}".replace(",", "\u00a0")
