"""Topics as agents read them: the titles editors gave the FAQ topics and the intents' Finnish descriptions.

A handoff brief names what the visitor asked about as labels ("faq/attachments", "check_account_status");
the console shows them as the editor names them ("Liitteiden lähettäminen", "oman asian tilanne"). The
titles are the topics' own (data/faq/*.yml, ``metadata.title``: what the editor lists and edits, read by
content.regression.topic_titles), the intents' descriptions those of the publish reports
(content/copy_fi.yml ``labels``, content.publish.label_title). An editor's new title shows without a
restart: the files are looked at again at most every ``max_age_seconds`` and read again when they changed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from content.publish import label_title
from content.regression import topic_titles
from content.repository import FAQ_DIR

Json = Dict[str, str]
Signature = Tuple[Tuple[str, int, int], ...]


class TopicTitles:
    def __init__(self, root: Path, max_age_seconds: float = 2.0) -> None:
        self.root = Path(root)
        self.max_age = max_age_seconds
        self._signature: Optional[Signature] = None
        self._titles: Dict[str, str] = {}
        self._checked = float("-inf")
        self._lock = asyncio.Lock()

    def _signature_now(self) -> Signature:
        found = []
        for path in sorted((self.root / FAQ_DIR).glob("*.yml")):
            try:
                stat = path.stat()
            except OSError:  # removed between listing and looking
                continue
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def _refresh(self) -> None:
        """In a worker thread: the titles again if the topic files changed since they were read."""
        signature = self._signature_now()
        if signature != self._signature:
            self._titles = topic_titles(self.root)
            self._signature = signature

    async def titles(self) -> Dict[str, str]:
        """"faq/<topic>" -> its title, as the topic files have it now (at most ``max_age`` seconds old)."""
        if time.monotonic() - self._checked >= self.max_age:
            async with self._lock:
                if time.monotonic() - self._checked >= self.max_age:
                    await asyncio.to_thread(self._refresh)
                    self._checked = time.monotonic()
        return self._titles

    async def describe(self, labels: Iterable[str]) -> List[Json]:
        """Each label with the title agents read for it (the label itself when it has none)."""
        titles = await self.titles()
        return [{"label": str(label), "title": label_title(str(label), titles) or str(label)} for label in labels]
