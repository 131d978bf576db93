"""Finnish number and date formats for values put into response templates."""

from __future__ import annotations

import datetime as dt


def finnish_date(day: dt.date) -> str:
    """18.12.2026 (Finnish dates carry no leading zeros)."""
    return f"{day.day}.{day.month}.{day.year}"


def finnish_euros(cents: int) -> str:
    """412,50 (decimal comma, no thousands separator below 10 000, narrow space above)."""
    euros, rest = divmod(abs(cents), 100)
    whole = f"{euros:,}".replace(",", "\u202f") if euros >= 10_000 else str(euros)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole},{rest:02d}"
