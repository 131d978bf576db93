"""Retention: the service's sweep deletes conversations closed or idle longer than
LIVEAGENT_RETENTION_DAYS, at most once a day; `python -m liveagent retention` does it on demand."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent.store import Store, Transition
from tests.conftest import ROOT
from tests.liveagent.conftest import SECRET
from tests.liveagent.test_store import FAST_HASHER

OLD, RECENT = "0" * 32, "1" * 32


async def _prepare(database_url: str) -> None:
    """An old finished chat (400 days) with a contact request, and a recent one (10 days)."""
    now = dt.datetime.now(dt.timezone.utc)
    store = await Store.open(database_url, hasher=FAST_HASHER)
    try:
        for conversation_id, age in ((OLD, 400), (RECENT, 10)):
            when = now - dt.timedelta(days=age)
            await store.get_or_create_conversation(conversation_id, now=when)
            await store.add_message(conversation_id, "visitor", "text", "hetuni on 131052-308T", now=when)
            await store.transition(conversation_id, Transition.ESCALATE, reason="visitor_request", now=when)
            await store.transition(conversation_id, Transition.CLOSE, now=when)
        await store.create_ticket(OLD, "Matti", "040 123 4567", "Soita", now=now - dt.timedelta(days=400))
    finally:
        await store.close()


def prepare(database_url: str) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, beside the test's
        pool.submit(asyncio.run, _prepare(database_url)).result()


@pytest.fixture
def service_env(tmp_path):
    prepare(f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite")  # the database the service fixture uses
    return {"LIVEAGENT_RETENTION_DAYS": "30", "LIVEAGENT_SWEEP_SECONDS": "0.3"}


async def test_the_sweep_deletes_what_is_older_than_the_retention_period_once_a_day(service, make_agent):
    ville = await make_agent("ville", online=False)

    async def retention_runs():
        return (await (await ville.call("GET", "/audit?action=retention")).json())["entries"]

    for _ in range(100):
        if await retention_runs():
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # several more sweeps
    runs = await retention_runs()
    assert len(runs) == 1 and runs[0]["actor"] is None
    assert runs[0]["detail"] == {"days": 30, "conversations": 1, "messages": 1, "events": 2, "read_marks": 0,
                                 "tickets": 1, "missed": 0}
    assert (await ville.call("GET", f"/conversations/{OLD}")).status == 404
    assert (await ville.call("GET", f"/conversations/{RECENT}")).status == 200


def test_the_retention_command_deletes_now_and_says_how_much(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite"
    prepare(url)
    env = {**os.environ, "LIVEAGENT_SECRET": SECRET, "LIVEAGENT_DATABASE_URL": url, "LIVEAGENT_RETENTION_DAYS": "30"}
    result = subprocess.run([sys.executable, "-m", "liveagent", "retention"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("Deleted 1 conversation closed or idle for more than 30 days (1 message, 2 state "
                             "events, 0 read marks, 0 inbox entries) and 1 contact request.\n")
    again = subprocess.run([sys.executable, "-m", "liveagent", "retention"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.stdout.startswith("Deleted 0 conversations")
