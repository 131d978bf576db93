"""The audit log on SQLite and on PostgreSQL: masked, paged, with a retention of its own."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.liveagent.store.common import FAST_HASHER

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)




@pytest.fixture
def store_options():
    return {"hasher": FAST_HASHER, "clock": lambda: NOW}


async def test_audit_entries_are_masked_newest_first_and_paged(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123", "supervisor")
    detail = {"summary": "Asiakas 010190-123A, matti.meikalainen@example.com, p. 040 123 4567",
              "nested": [{"iban": "FI21 1234 5600 0007 85"}], "count": 3, "long": "x" * 2000}
    first = await store.audit.record("content.answer", actor_id=anna.id, actor_username="anna",
                                     target="topic:login", detail=detail, client_address="203.0.113.9")
    assert first.detail["summary"] == "Asiakas [henkilötunnus], [sähköposti], p. [puhelinnumero]"
    assert first.detail["nested"] == [{"iban": "[tilinumero]"}]
    assert first.detail["count"] == 3 and len(first.detail["long"]) == 500
    assert (first.actor_id, first.actor_username, first.client_address) == (anna.id, "anna", "203.0.113.9")
    assert first.created_at == NOW
    for n in range(6):
        await store.audit.record("conversation.claim", actor_id=anna.id, actor_username="anna",
                                 target=f"conversation:c{n}")
    await store.audit.record("login.failure", detail={"known_user": False})  # no actor

    page = await store.audit.entries(limit=3)
    assert [e.action for e in page] == ["login.failure", "conversation.claim", "conversation.claim"]
    assert page[0].actor_id is None and page[0].actor_username is None
    seen, before = [], None
    while True:
        batch = await store.audit.entries(limit=3, before_id=before)
        seen.extend(batch)
        if len(batch) < 3:
            break
        before = batch[-1].id
    assert [e.id for e in seen] == sorted((e.id for e in seen), reverse=True) and len(seen) == 8
    assert [e.target for e in await store.audit.entries(action="conversation.claim", limit=2)] == [
        "conversation:c5", "conversation:c4"]
    assert [e.id for e in await store.audit.entries(target="topic:login")] == [first.id]
    # the stored text itself is masked, not only what the API shows
    async with store.engine.connect() as conn:
        raw = (await conn.execute(sa.text("SELECT detail FROM audit_log WHERE id = :id"), {"id": first.id})).scalar()
    assert "010190-123A" not in raw and "example.com" not in raw and "040 123" not in raw


async def test_old_audit_entries_go_but_the_newest_retention_entry_stays(store):
    """The log holds client addresses: it has a retention of its own (LIVEAGENT_AUDIT_RETENTION_DAYS)."""
    old = NOW - dt.timedelta(days=800)
    await store.audit.record("login.success", actor_username="anna", client_address="203.0.113.9", now=old)
    await store.audit.record("retention", detail={"days": 365}, now=old - dt.timedelta(days=1))
    await store.audit.record("retention", detail={"days": 365}, now=old)  # the newest retention run
    await store.audit.record("conversation.claim", actor_username="anna", now=NOW - dt.timedelta(days=10))
    assert await store.audit.purge_before(NOW - dt.timedelta(days=730)) == 2
    left = [(entry.action, entry.created_at) for entry in await store.audit.entries()]
    assert left == [("conversation.claim", NOW - dt.timedelta(days=10)), ("retention", old)]


async def test_the_services_own_digest_is_kept_whole_but_the_same_text_from_a_caller_is_masked(store):
    """An erasure's subject (liveagent.auditing.subject_digest) is hex: one in ~18 starts like an IBAN
    (two letters, two digits) and was masked to "[tilinumero]" (a flaky erasure test)."""
    from liveagent.auditing import subject_digest
    from liveagent.store.audit import Digest

    looks_like_an_iban = "ab12cdef0123456789abcdef01234567"
    entry = await store.audit.record("erasure", detail={"subject": Digest(looks_like_an_iban),
                                                        "note": looks_like_an_iban})
    assert entry.detail == {"subject": looks_like_an_iban, "note": "[tilinumero]"}
    digest = subject_digest("s" * 40, "conversation_id", "c1")
    assert isinstance(digest, Digest) and len(digest) == 32
