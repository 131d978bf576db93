"""``action_check_account_status``: a logged-in customer's own application and payment status.

Identity comes only from the customer id the live-agent service verified and signed into the message
metadata (see ``lumo_shared.identity``).
The lookup goes through ``AccountsBackend``; if it fails or is slow the visitor gets an apology
and an offer of a human, and the slot ``failed_action`` tells the escalation why.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.accounts_backend import AccountStatus, BackendUnavailable, get_backend
from actions.formatting import finnish_date, finnish_euros
from actions.settings import get_settings
from lumo_shared.identity import IdentityStatus, identity_from_metadata
from lumo_shared.tracker_events import FAILED_ACTION_SLOT, latest_user_metadata

logger = logging.getLogger(__name__)

ACTION_NAME = "action_check_account_status"
STATUS_RESPONSES = {
    "received": "utter_account_application_received",
    "processing": "utter_account_application_processing",
    "decided": "utter_account_application_decided",
    "missing_attachment": "utter_account_application_missing_attachment",
}


class ActionCheckAccountStatus(Action):
    """Tells a verified customer the state of their application, account and next payment."""

    def name(self) -> Text:
        return ACTION_NAME

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        result = identity_from_metadata(latest_user_metadata(tracker.events), get_settings().identity,
                                        tracker.sender_id)
        if result.status == IdentityStatus.ANONYMOUS:
            dispatcher.utter_message(response="utter_login_required")
            return []
        if result.status == IdentityStatus.INVALID or result.identity is None:
            dispatcher.utter_message(response="utter_session_expired")
            return []

        try:
            status = await get_backend().get_status(result.identity.customer_id)
        except BackendUnavailable as error:
            logger.warning("Account lookup failed: %s", error)
            dispatcher.utter_message(response="utter_account_backend_unavailable")
            return [SlotSet(FAILED_ACTION_SLOT, ACTION_NAME)]
        except Exception:  # noqa: BLE001 - never a stack trace to the visitor
            logger.exception("Account lookup failed unexpectedly")
            dispatcher.utter_message(response="utter_account_backend_unavailable")
            return [SlotSet(FAILED_ACTION_SLOT, ACTION_NAME)]

        if status is None:
            dispatcher.utter_message(response="utter_account_not_found")
            return []
        for response, values in status_messages(status):
            dispatcher.utter_message(response=response, **values)
        return []


def status_messages(status: AccountStatus) -> List[tuple]:
    """The responses (name, template values) that describe ``status``, in order."""
    messages: List[tuple] = []
    name = {"first_name": status.first_name}
    if status.account_locked:
        return [("utter_account_locked", name)]
    app = status.application
    if app is not None:
        values: Dict[str, Any] = {
            **name,
            "benefit": app.benefit,
            "received_on": finnish_date(app.received_on),
        }
        if app.status == "processing" and app.estimated_on:
            values["estimated_on"] = finnish_date(app.estimated_on)
        if app.status == "decided" and app.decided_on:
            values["decided_on"] = finnish_date(app.decided_on)
        if app.status == "missing_attachment":
            values["missing_attachment"] = app.missing_attachment or "liite"
        if app.status in STATUS_RESPONSES:
            messages.append((STATUS_RESPONSES[app.status], values))
        else:
            logger.warning("Unknown application status %r; not shown to the visitor", app.status)
    if status.next_payment is not None:
        messages.append(
            (
                "utter_account_next_payment",
                {
                    "amount": finnish_euros(status.next_payment.amount_cents),
                    "payment_on": finnish_date(status.next_payment.payment_on),
                },
            )
        )
    if not messages:
        messages.append(("utter_account_not_found", {}))
    return messages
