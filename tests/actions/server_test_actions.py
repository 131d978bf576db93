"""Actions served by the action server under test (tests/actions/test_server.py): one answers, one raises
an exception whose message quotes what the visitor wrote and a slot value, one logs such an exception, one
logs what the visitor wrote."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_answer")
        return []


class ActionBreak(Action):
    def name(self) -> str:
        return "action_break"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        text = tracker.latest_message.get("text")
        raise ValueError(f"could not handle {text!r} for {tracker.get_slot('customer_name')!r}")


class ActionLogAndAnswer(Action):
    def name(self) -> str:
        return "action_log_and_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        try:
            raise KeyError(f"no row for {tracker.latest_message.get('text')!r}")
        except KeyError:
            logging.getLogger(__name__).exception("Lookup failed")
        dispatcher.utter_message(response="utter_answer")
        return []


class ActionLogVisitorText(Action):
    def name(self) -> str:
        return "action_log_visitor_text"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        logging.getLogger(__name__).warning("The visitor wrote: %s", tracker.latest_message.get("text"))
        dispatcher.utter_message(response="utter_answer")
        return []
