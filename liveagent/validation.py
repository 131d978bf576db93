"""What text the service can store: checked where text comes in, so no database call fails on it."""

from __future__ import annotations


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
