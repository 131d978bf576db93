"""The handoff contract (docs/handoff.md): the availability answer and the handoff signal, as both sides
read and write them."""

from __future__ import annotations

import json
import re

import pytest

from lumo_shared.handoff import (
    Availability,
    AvailabilityReason,
    HandoffCustomer,
    HandoffReason,
    HandoffSignal,
    HandoffSummary,
    contact_request_offer,
)
from tests.conftest import ROOT


def test_availability_survives_the_trip_from_the_service_to_the_action():
    closed = Availability(False, AvailabilityReason.CLOSED, "Palvelemme arkisin klo 8–18.")
    assert closed.to_json() == {"available": False, "reason": "closed", "text": "Palvelemme arkisin klo 8–18."}
    assert Availability.from_json(json.loads(json.dumps(closed.to_json()))) == closed
    assert Availability.from_json({"available": True}) == Availability(True, "", "")


@pytest.mark.parametrize("answer", [None, [], "open", {}, {"available": "yes"}, {"available": 1}])
def test_what_is_not_an_availability_answer_is_refused(answer):
    assert Availability.from_json(answer) is None


def test_the_signal_has_the_documented_shape():
    summary = HandoffSummary(intents=("faq/attachments", "request_human"), last_messages=("miten lähetän liitteet",),
                             customer=HandoffCustomer(True, "LUMO-1004"), turns=2,
                             failed_action="action_check_account_status")
    signal = HandoffSignal(HandoffReason.ACTION_FAILED, "3f2c", "2026-11-22T16:05:11+00:00", summary)
    assert signal.to_custom() == {"handoff": {
        "version": 1, "reason": "action_failed", "conversation_id": "3f2c", "requested_at": "2026-11-22T16:05:11+00:00",
        "summary": {"intents": ["faq/attachments", "request_human"], "last_messages": ["miten lähetän liitteet"],
                    "customer": {"verified": True, "customer_id": "LUMO-1004"}, "turns": 2,
                    "failed_action": "action_check_account_status"}}}
    anonymous = HandoffSummary((), (), HandoffCustomer(False), 0)
    assert anonymous.to_json() == {"intents": [], "last_messages": [], "customer": {"verified": False}, "turns": 0}
    assert contact_request_offer("closed") == {"contact_request_offer": {"reason": "closed"}}


def test_the_documented_reasons_are_the_ones_in_the_code():
    documented = (ROOT / "docs" / "handoff.md").read_text(encoding="utf-8")
    reasons = {value for name, value in vars(HandoffReason).items() if name.isupper()}
    row = next(line for line in documented.splitlines() if line.startswith("| `reason` |"))
    assert set(re.findall(r"`([a-z_]+)` \(", row)) == reasons
