"""The store tests run on both backends: SQLite in a temporary file and PostgreSQL on 127.0.0.1:5432.

PostgreSQL runs in a database of its own per test module (tests/liveagent/databases.py); it being
down fails these tests instead of skipping them. A module changes how its Store is opened (hasher,
clock) by overriding ``store_options``.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest

from liveagent.store import Store
from tests.liveagent.databases import postgres_database
from tests.liveagent.store.common import FAST_HASHER


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/not-yet-created/liveagent.sqlite"
        return
    with postgres_database(request.module.__name__.rsplit(".", 1)[-1]) as url:
        yield url


@pytest.fixture
def store_options() -> Dict[str, Any]:
    return {"hasher": FAST_HASHER}


@pytest.fixture
async def store(database_url, store_options):
    store = await Store.open(database_url, **store_options)
    yield store
    await store.close()
