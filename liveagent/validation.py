"""What text and ids the service can store or look up: checked where they come in, so no database call
fails on them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

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


def zoned_time(value: Any) -> Optional[dt.datetime]:
    """An ISO time with its zone (as the service's own events carry them); None for anything else, a time
    without a zone included: it would be compared with stored UTC times."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
