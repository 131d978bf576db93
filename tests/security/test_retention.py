"""Retention: the service's sweep deletes conversations closed or idle longer than
LIVEAGENT_RETENTION_DAYS, with their Rasa trackers, at most once a day; `python -m liveagent retention`
does it on demand. Rasa unreachable: what it did not delete is kept for the next run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from liveagent.rasa_client import RasaUnavailable
from liveagent.retention import RetentionSchedule, purge
from liveagent.store import Store, Transition
from stack.processes import free_port
from tests.conftest import ROOT
from tests.liveagent import fake_rasa
from tests.liveagent.conftest import RASA_SECRET, SECRET, eventually
from tests.liveagent.store.common import FAST_HASHER

OLD, RECENT = "0" * 32, "1" * 32


async def _prepare(database_url: str) -> None:
    """An old finished chat (400 days) with a contact request, and a recent one (10 days)."""
    now = dt.datetime.now(dt.timezone.utc)
    store = await Store.open(database_url, hasher=FAST_HASHER)
    try:
        for conversation_id, age in ((OLD, 400), (RECENT, 10)):
            when = now - dt.timedelta(days=age)
            await store.conversations.get_or_create(conversation_id, now=when)
            await store.messages.add(conversation_id, "visitor", "text", "hetuni on 131052-308T", now=when)
            await store.conversations.transition(conversation_id, Transition.ESCALATE, reason="visitor_request",
                                                 now=when)
            await store.conversations.transition(conversation_id, Transition.CLOSE, now=when)
        await store.tickets.create(OLD, "Matti", "040 123 4567", "Soita", now=now - dt.timedelta(days=400))
    finally:
        await store.close()


def prepare(database_url: str) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, beside the test's
        pool.submit(asyncio.run, _prepare(database_url)).result()


@pytest.fixture
def service_env(tmp_path):
    prepare(f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite")  # the database the service fixture uses
    return {"LIVEAGENT_RETENTION_DAYS": "30", "LIVEAGENT_SWEEP_SECONDS": "0.2"}


async def test_the_sweep_deletes_what_is_older_than_the_retention_period_once_a_day(service, make_agent):
    ville = await make_agent("ville", online=False)

    async def retention_runs():
        return (await (await ville.call("GET", "/audit?action=retention")).json())["entries"]

    await eventually(retention_runs)
    await asyncio.sleep(1.0)  # several more sweeps: the behaviour under test is that none of them purges again
    runs = await retention_runs()
    assert len(runs) == 1 and runs[0]["actor"] is None
    assert runs[0]["detail"] == {"days": 30, "conversations": 1, "messages": 1, "events": 2, "read_marks": 0,
                                 "tickets": 1, "missed": 0, "suggestions": 0, "audit_entries": 0,
                                 "rasa_trackers_deleted": 1,
                                 "rasa_trackers_not_deleted": 0, "rasa_unreachable": False, "unfinished": False}
    assert service.rasa_log()["erased"] == [OLD]  # its Rasa tracker went too, the recent one stays
    assert (await ville.call("GET", f"/conversations/{OLD}")).status == 404
    assert (await ville.call("GET", f"/conversations/{RECENT}")).status == 200


async def test_the_retention_command_deletes_now_and_says_how_much(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite"
    prepare(url)
    port = free_port()
    env = {**os.environ, "LUMO_ENV": "demo", "LIVEAGENT_SECRET": SECRET, "LIVEAGENT_DATABASE_URL": url,
           "LIVEAGENT_RETENTION_DAYS": "30",
           "RASA_JWT_SECRET": RASA_SECRET, "LIVEAGENT_RASA_URL": f"http://127.0.0.1:{port}",
           "LIVEAGENT_RASA_TIMEOUT_SECONDS": "2"}

    async def retention() -> subprocess.CompletedProcess:  # in a thread: this loop serves the fake Rasa
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "liveagent", "retention"], cwd=ROOT,
                                       env=env, capture_output=True, text=True, timeout=120)

    unreachable = await retention()  # nothing answers on the port yet: everything is kept
    assert unreachable.returncode == 1 and "Rasa could not be reached" in unreachable.stderr
    assert unreachable.stdout.startswith("Deleted 0 conversations")
    rasa = await fake_rasa.serve(port, RASA_SECRET)
    try:
        result = await retention()
        assert result.returncode == 0, result.stderr
        assert result.stdout == ("Deleted 1 conversation closed or idle for more than 30 days (1 message, 2 state "
                                 "events, 0 read marks, 0 inbox entries) and 1 contact request; Rasa deleted "
                                 "1 tracker; 0 audit entries older than 730 days deleted.\n")
        again = await retention()
        assert again.stdout.startswith("Deleted 0 conversations") and again.returncode == 0
    finally:
        await rasa.stop()


class StubRasa:
    """RasaClient.erase_tracker: True (deleted), False (Rasa cannot delete), or RasaUnavailable."""

    def __init__(self, unreachable_from: Optional[int] = None, cannot_delete: bool = False,
                 clock: Optional["Clock"] = None, seconds: float = 0.0) -> None:
        self.erased: List[str] = []
        self.unreachable_from = unreachable_from
        self.cannot_delete = cannot_delete
        self.clock = clock
        self.seconds = seconds

    async def erase_tracker(self, conversation_id: str) -> bool:
        if self.unreachable_from is not None and len(self.erased) >= self.unreachable_from:
            raise RasaUnavailable("Rasa unreachable: ClientConnectorError")
        if self.clock is not None:
            self.clock.now += self.seconds  # the time one call takes
        self.erased.append(conversation_id)
        return not self.cannot_delete


async def old_conversations(tmp_path: Path, count: int) -> Store:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/retention.sqlite", hasher=FAST_HASHER)
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    for number in range(count):
        conversation_id = f"{number:032x}"
        await store.conversations.get_or_create(conversation_id, now=when)
        await store.messages.add(conversation_id, "visitor", "text", "hei", now=when)
    return store


async def remaining(store: Store) -> List[str]:
    return await store.retention.expired_conversations(dt.datetime.now(dt.timezone.utc))


async def test_rasa_unreachable_keeps_what_it_did_not_delete_for_the_next_run(tmp_path, caplog):
    store = await old_conversations(tmp_path, 3)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        down = StubRasa(unreachable_from=1)
        result = await purge(store, down, 30, now)
        assert (result.deleted.conversations, result.rasa_deleted, result.rasa_unreachable) == (1, 1, True)
        assert await remaining(store) == [f"{1:032x}", f"{2:032x}"]  # no Rasa tracker left without its chat
        assert "Rasa could not delete a tracker" in caplog.text
        entry = (await store.audit.entries(limit=1, action="retention"))[0]
        assert (entry.detail["rasa_unreachable"], entry.detail["conversations"]) == (True, 1)
        schedule = RetentionSchedule(store, StubRasa(), 30)
        assert await schedule.run_if_due(now + dt.timedelta(hours=1)) is None  # a finished run: tomorrow
        later = await schedule.run_if_due(now + dt.timedelta(days=1, minutes=1))
        assert (later.deleted.conversations, later.rasa_deleted, later.rasa_unreachable) == (2, 2, False)
        assert await remaining(store) == []
    finally:
        await store.close()


async def test_a_tracker_rasa_cannot_delete_is_counted_and_its_conversation_goes(tmp_path, caplog):
    store = await old_conversations(tmp_path, 2)
    try:
        result = await purge(store, StubRasa(cannot_delete=True), 30, dt.datetime.now(dt.timezone.utc))
        assert (result.deleted.conversations, result.rasa_deleted, result.rasa_not_deleted) == (2, 0, 2)
        assert "Rasa could not delete 2 trackers" in caplog.text and await remaining(store) == []
    finally:
        await store.close()


class Clock:
    """time.monotonic for liveagent.retention, advanced only by the stub Rasa's calls."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_a_sweep_spends_a_bounded_time_on_rasa_and_the_next_sweep_goes_on(tmp_path, monkeypatch):
    import liveagent.retention

    clock = Clock()
    monkeypatch.setattr(liveagent.retention, "time", clock)
    store = await old_conversations(tmp_path, 5)
    try:
        rasa = StubRasa(clock=clock, seconds=0.2)
        schedule = RetentionSchedule(store, rasa, 30, budget_seconds=0.3)  # two Rasa calls per sweep
        now = dt.datetime.now(dt.timezone.utc)
        runs = []
        for sweep in range(5):
            runs.append(await schedule.run_if_due(now + dt.timedelta(seconds=15 * sweep)))
        assert [run and (run.deleted.conversations, run.unfinished) for run in runs] == [
            (2, True), (2, True), (1, False), None, None]
        assert len(rasa.erased) == 5 and await remaining(store) == []
        # Another replica (or a restart) reads from the audit log whether the last run finished.
        assert await RetentionSchedule(store, rasa, 30).run_if_due(now + dt.timedelta(minutes=5)) is None
    finally:
        await store.close()
