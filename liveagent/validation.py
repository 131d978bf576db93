"""What text and ids the service can store or look up: checked where they come in, so no database call
fails on them."""

from __future__ import annotations

from typing import Any

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns in PostgreSQL (SQLite overflows past 2**63)


def storable(text: str) -> bool:
    """False for text no database here can hold: NUL (PostgreSQL refuses it in text columns) or a
    lone surrogate (not encodable as UTF-8; JSON lets a client send one as "\\ud800")."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def row_id(value: Any) -> bool:
    """True for an integer that can name a row: a larger one fails in the database instead of matching nothing."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
