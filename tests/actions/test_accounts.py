"""action_check_account_status: identity only from the customer id the service signed; every backend outcome."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from rasa_sdk.events import SlotSet

from actions.accounts import ActionCheckAccountStatus
from actions.clients import accounts_backend
from actions.clients.accounts_backend import AccountsBackend, BackendUnavailable
from lumo_shared.settings import IdentitySettings
from tests.conftest import make_token, make_tracker, signed_customer, user_event


def ask(metadata=None):
    return make_tracker([user_event("onko mun hakemus käsitelty", "check_account_status", metadata)])


async def run(dispatcher, tracker, domain):
    return await ActionCheckAccountStatus().run(dispatcher, tracker, domain)


async def test_anonymous_visitor_is_asked_to_log_in(dispatcher, domain, sqlite_backend):
    events = await run(dispatcher, ask(), domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_login_required"]


async def test_identity_claimed_in_plain_metadata_is_ignored(dispatcher, domain, sqlite_backend):
    events = await run(dispatcher, ask({"customer_id": "LUMO-1001", "sub": "LUMO-1001"}), domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_login_required"]


def tampered(**changes):
    metadata = signed_customer("LUMO-1001")
    return {"customer": {**metadata["customer"], **changes}}


@pytest.mark.parametrize(
    "metadata",
    [
        signed_customer("LUMO-1001", key="another-customer-id-key-0123456789-abcdef"),  # forged: wrong key
        signed_customer("LUMO-1001", now=time.time() - 3600),  # expired an hour ago
        signed_customer("LUMO-1001", sender_id="someone-elses-conversation"),  # copied from another chat
        tampered(id="LUMO-1003"),  # another customer, the signature kept
        tampered(expires=int(time.time()) + 86400),  # expiry pushed out, the signature kept
        tampered(signature=""),
        {"customer": "LUMO-1001"},
        {"customer": {"id": "LUMO-1001"}},
    ],
    ids=["wrong-key", "expired", "other-conversation", "other-customer", "longer-expiry", "no-signature",
         "bare-string", "unsigned"],
)
async def test_customer_ids_not_signed_by_the_service_for_this_conversation_are_refused(
        dispatcher, domain, sqlite_backend, metadata):
    events = await run(dispatcher, ask(metadata), domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_session_expired"]


async def test_a_raw_identity_jwt_in_metadata_is_not_trusted(dispatcher, domain, sqlite_backend):
    """Only the service's signed id counts: a website token (even a genuine one) sent to Rasa proves nothing."""
    await run(dispatcher, ask({"auth_token": make_token("LUMO-1001")}), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_login_required"]


async def test_without_a_customer_id_key_every_id_is_refused(dispatcher, domain, sqlite_backend, test_settings):
    from actions import settings as settings_module

    settings_module.override_settings(settings_module.Settings(identity=IdentitySettings(jwt_keys=test_settings.identity.jwt_keys)))
    await run(dispatcher, ask(signed_customer("LUMO-1001")), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_session_expired"]


async def test_application_in_processing(dispatcher, domain, sqlite_backend):
    events = await run(dispatcher, ask(signed_customer("LUMO-1001")), domain)
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_account_application_processing"
    assert dispatcher.messages[0]["first_name"] == "Aino"
    assert dispatcher.messages[0]["received_on"] == "10.11.2026"
    assert dispatcher.messages[0]["estimated_on"] == "1.12.2026"


async def test_decided_application_and_next_payment(dispatcher, domain, sqlite_backend):
    await run(dispatcher, ask(signed_customer("LUMO-1003")), domain)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_account_application_decided",
        "utter_account_next_payment",
    ]
    assert dispatcher.messages[1]["amount"] == "412,50"
    assert dispatcher.messages[1]["payment_on"] == "26.11.2026"


@pytest.mark.parametrize(
    "customer, expected",
    [
        ("LUMO-1002", ["utter_account_application_received"]),
        ("LUMO-1004", ["utter_account_application_missing_attachment"]),
        ("LUMO-1005", ["utter_account_locked"]),
        ("LUMO-1006", ["utter_account_next_payment"]),
        ("LUMO-9999", ["utter_account_not_found"]),
    ],
)
async def test_each_demo_state(dispatcher, domain, sqlite_backend, customer, expected):
    await run(dispatcher, ask(signed_customer(customer)), domain)
    assert [m["response"] for m in dispatcher.messages] == expected


class SlowBackend(AccountsBackend):
    async def get_status(self, customer_id):
        raise BackendUnavailable("accounts lookup timed out")


class BrokenBackend(AccountsBackend):
    async def get_status(self, customer_id):
        raise RuntimeError("boom 131052-308T")


@pytest.mark.parametrize("backend", [SlowBackend(), BrokenBackend()], ids=["unavailable", "unexpected-error"])
async def test_backend_failure_apologises_and_offers_a_human(dispatcher, domain, test_settings, backend, caplog,
                                                             masked_logs):
    accounts_backend.set_backend(backend)
    try:
        with caplog.at_level(logging.WARNING):
            events = await run(dispatcher, ask(signed_customer("LUMO-1001")), domain)
    finally:
        accounts_backend.set_backend(None)
    assert events == [SlotSet("failed_action", "action_check_account_status")]
    assert [m["response"] for m in dispatcher.messages] == ["utter_account_backend_unavailable"]
    buttons = domain["responses"]["utter_account_backend_unavailable"][0]["buttons"]
    assert {"title": "Kyllä, asiakaspalvelijalle", "payload": "/request_human"} in buttons
    assert "131052-308T" not in caplog.text


async def test_slow_database_times_out(dispatcher, domain, test_settings):
    class Hanging(accounts_backend.SqlAccountsBackend):
        def _lookup(self, customer_id):
            import time

            time.sleep(2)

    engine = accounts_backend.create_engine("sqlite://", 0.2)
    accounts_backend.set_backend(Hanging(engine, timeout_seconds=0.2))
    try:
        started = asyncio.get_running_loop().time()
        events = await run(dispatcher, ask(signed_customer("LUMO-1001")), domain)
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        accounts_backend.set_backend(None)
    assert events == [SlotSet("failed_action", "action_check_account_status")]
    assert elapsed < 1.5


async def test_unreachable_postgres_is_backend_unavailable(test_settings):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    engine = accounts_backend.create_engine("postgresql://nobody@127.0.0.1:9/none", 1.0)
    backend = accounts_backend.SqlAccountsBackend(engine, 1.0)
    with pytest.raises(BackendUnavailable):
        await backend.get_status("LUMO-1001")
