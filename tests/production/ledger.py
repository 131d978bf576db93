"""Counting messages across faults: every test says what was sent, received, lost and duplicated.

Each message carries a unique marker in its text; the ledger records what each party sent and
what it saw arrive. A message is lost when it was sent and never seen; duplicated when seen more
than once by the same receiver.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List


@dataclass
class Ledger:
    name: str
    sent: Dict[str, str] = field(default_factory=dict)  # marker -> who must receive it
    order: List[tuple] = field(default_factory=list)  # (marker, text) in sending order
    seen: Counter = field(default_factory=Counter)  # (receiver, marker) -> times
    _ids: "itertools.count[int]" = field(default_factory=itertools.count)

    def new(self, sender: str, receiver: str, text: str) -> str:
        """A message text with a unique marker, recorded as sent from ``sender`` to ``receiver``."""
        marker = f"[{self.name}-{sender}-{next(self._ids)}]"
        self.sent[marker] = receiver
        self.order.append((marker, text))
        return f"{text} {marker}"

    def texts(self) -> List[tuple]:
        """(marker, text) of every message, in the order sent."""
        return list(self.order)

    def saw(self, receiver: str, text: str) -> None:
        for marker in self.sent:
            if marker in (text or ""):
                self.seen[(receiver, marker)] += 1

    def lost(self) -> List[str]:
        return [m for m, receiver in self.sent.items() if self.seen[(receiver, m)] == 0]

    def duplicated(self) -> List[str]:
        return [m for (receiver, m), n in self.seen.items() if n > 1 and self.sent.get(m) == receiver]

    def report(self) -> str:
        received = sum(1 for m, r in self.sent.items() if self.seen[(r, m)] > 0)
        return (f"{self.name}: sent {len(self.sent)}, received {received}, "
                f"lost {len(self.lost())}, duplicated {len(self.duplicated())}")

    def assert_exact(self) -> None:
        print(self.report())
        assert not self.lost(), f"{self.report()}; lost {self.lost()}"
        assert not self.duplicated(), f"{self.report()}; duplicated {self.duplicated()}"
