"""The queue's priorities: which waiting chats are served first, read from a data file.

``LIVEAGENT_PRIORITIES_FILE`` (default liveagent/queue_priorities.yml) gives points per handoff reason
and for a customer the bot verified. ``QueuePriorities.of`` turns an escalation into its priority once,
when the chat joins the queue; the store keeps it in the row and orders the queue by it
(liveagent/store/assignment.py ``QUEUE_ORDER``), so the queue agents see, the chat an automatic
assignment takes next and the place each visitor is told follow the same order on every replica.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

from liveagent import copy
from lumo_shared.settings import SettingsError

DEFAULT_FILE = Path(__file__).resolve().with_name("queue_priorities.yml")
MAX_POINTS = 100


def _points(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_POINTS <= value <= MAX_POINTS:
        raise SettingsError(f"{where} must be a whole number from -{MAX_POINTS} to {MAX_POINTS}, not {value!r}")
    return value


@dataclass(frozen=True)
class QueuePriorities:
    """Points per handoff reason and for a verified customer; a chat's priority is their sum."""

    reasons: Mapping[str, int] = field(default_factory=dict)
    verified_customer: int = 0

    def of(self, reason: Optional[str], verified_customer: bool) -> int:
        """The priority of a chat that joins the queue for ``reason`` (higher: served first)."""
        return self.reasons.get(reason or "", 0) + (self.verified_customer if verified_customer else 0)

    @classmethod
    def load(cls, path: Path = DEFAULT_FILE) -> "QueuePriorities":
        """The priorities in ``path``; SettingsError, naming the file, for anything it cannot use
        (an unknown reason is a typo: it would silently give that reason nothing)."""
        where = str(path)
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as error:
            raise SettingsError(f"LIVEAGENT_PRIORITIES_FILE {where}: {error}") from error
        data = {} if data is None else data
        if not isinstance(data, dict) or set(data) - {"reasons", "verified_customer"}:
            raise SettingsError(f"{where}: expected only `reasons` and `verified_customer`")
        raw_reasons = data.get("reasons") or {}
        if not isinstance(raw_reasons, dict):
            raise SettingsError(f"{where}: `reasons` must map handoff reasons to points")
        reasons: Dict[str, int] = {}
        for name, points in raw_reasons.items():
            if copy.lookup(f"reasons.{name}") is None:
                known = ", ".join(sorted(copy.BOOK.data["reasons"]))
                raise SettingsError(f"{where}: unknown handoff reason {name!r} (known: {known})")
            reasons[str(name)] = _points(f"{where}: reasons.{name}", points)
        verified = _points(f"{where}: verified_customer", data.get("verified_customer", 0))
        return cls(reasons, verified)
