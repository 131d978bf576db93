"""Suggested answers for agents: the bot's best FAQ answers to the visitor's newest question.

The running Rasa reads the message (``POST /model/parse``, nothing stored in the conversation): its
FAQ topic ranking (``response_selector.faq.ranking``, normalised within the FAQ topics by
components/linear_classifier.py) is turned back into each topic's own probability with the intent
ranking's ``faq`` confidence (the best topic's), so a message that is no FAQ question at all gets no
confident suggestions. The answers are the loaded model's own responses (``GET /domain``, read again
at most every ``DOMAIN_MAX_AGE`` seconds, so a publish shows within that), the titles those editors
gave the topics (liveagent/topics.py). Every suggestion shown is recorded (Store.suggestions), once per
message and topic; its id comes back with a reply sent from it.

When Rasa cannot be reached ``SuggestionsUnavailable`` is raised: the console says so, the chat works on.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Store
from liveagent.store.records import Message, ReplySuggestion
from liveagent.topics import TopicTitles

Json = Dict[str, Any]
RETRIEVAL_INTENT = "faq"
MAX_SUGGESTIONS = 3
MIN_CONFIDENCE = 0.1  # a topic less likely than this is no answer worth an agent's look
DOMAIN_MAX_AGE = 30.0  # seconds
PARSED_CACHE = 256  # visitor messages whose reading is kept (a console reloading the chat asks again)
LOOK_BACK = 5  # the visitor's newest messages searched for a question the bot has answers for


class SuggestionsUnavailable(Exception):
    """Rasa did not answer: there are no suggestions to show now."""


@dataclass(frozen=True)
class Ranked:
    topic: str  # "faq/attachments"
    confidence: float  # the topic's own probability, 0..1


def ranked_topics(parse: Json, limit: int = MAX_SUGGESTIONS, minimum: float = MIN_CONFIDENCE) -> List[Ranked]:
    """The best FAQ topics of a ``/model/parse`` answer, most likely first, at least ``minimum`` each."""
    selector = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    ranking = [item for item in selector.get("ranking") or []
               if isinstance(item, dict) and isinstance(item.get("intent_response_key"), str)]
    if not ranking:  # a selector without a ranking: its prediction alone
        response = selector.get("response") or {}
        if isinstance(response.get("intent_response_key"), str):
            ranking = [response]
    faq = next((item.get("confidence") for item in parse.get("intent_ranking") or []
                if isinstance(item, dict) and item.get("name") == RETRIEVAL_INTENT), None)
    if not ranking or not isinstance(faq, (int, float)):
        return []
    best = max(float(item.get("confidence") or 0.0) for item in ranking)
    if best <= 0:
        return []
    found = []
    for item in ranking:
        # within the FAQ topics the ranking adds up to 1; the best topic's own probability is faq's
        confidence = float(item.get("confidence") or 0.0) / best * float(faq)
        if confidence >= minimum:
            found.append(Ranked(str(item["intent_response_key"]), round(confidence, 4)))
    found.sort(key=lambda r: (-r.confidence, r.topic))
    return found[:limit]


def answer_texts(domain: Json) -> Dict[str, str]:
    """"faq/<topic>" -> its Finnish answer, from a domain's ``utter_faq/<topic>`` responses (the
    variation without a condition: conditioned ones answer in other languages, issue 15)."""
    texts = {}
    for name, variations in (domain.get("responses") or {}).items():
        if not isinstance(name, str) or not name.startswith(f"utter_{RETRIEVAL_INTENT}/"):
            continue
        plain = [v for v in variations or [] if isinstance(v, dict) and not v.get("condition") and v.get("text")]
        if plain:
            texts[name.removeprefix("utter_")] = str(plain[0]["text"])
    return texts


class SuggestedAnswers:
    def __init__(self, store: Store, rasa: RasaClient, titles: Optional[TopicTitles]) -> None:
        self.store = store
        self.rasa = rasa
        self.titles = titles
        self._texts: Optional[Tuple[float, Dict[str, str]]] = None  # (read at, answers)
        self._parsed: "OrderedDict[int, List[Ranked]]" = OrderedDict()

    async def answers(self) -> Dict[str, str]:
        if self._texts is None or time.monotonic() - self._texts[0] >= DOMAIN_MAX_AGE:
            try:
                domain = await self.rasa.domain()
            except RasaUnavailable as error:
                raise SuggestionsUnavailable(str(error)) from error
            self._texts = (time.monotonic(), answer_texts(domain))
        return self._texts[1]

    async def _ranked(self, message: Message) -> List[Ranked]:
        if message.id in self._parsed:
            self._parsed.move_to_end(message.id)
            return self._parsed[message.id]
        try:
            parse = await self.rasa.parse(message.text, message.conversation_id)
        except RasaUnavailable as error:
            raise SuggestionsUnavailable(str(error)) from error
        ranked = ranked_topics(parse)
        self._parsed[message.id] = ranked
        while len(self._parsed) > PARSED_CACHE:
            self._parsed.popitem(last=False)
        return ranked

    async def for_conversation(self, conversation_id: str) -> Json:
        """``{"message_id", "suggestions": [...]}`` for the visitor's newest question (none: null, []).

        The newest message the bot has answers for, of the visitor's last ``LOOK_BACK``: a visitor's
        newest words are often no question ("haluan puhua ihmisen kanssa", "kiitos"), and the question
        they asked the bot before the handoff is what the agent has to answer (the visitor is told
        they need not repeat it). With none of them a question, the newest message and no suggestions."""
        recent = await self.store.suggestions.latest_questions(conversation_id, LOOK_BACK)
        if not recent:
            return {"message_id": None, "suggestions": []}
        for message in recent:
            ranked = await self._ranked(message)
            texts = await self.answers() if ranked else {}
            items = [(r.topic, rank, r.confidence, texts[r.topic])
                     for rank, r in enumerate((r for r in ranked if r.topic in texts), start=1)]
            if items:
                recorded = await self.store.suggestions.record_shown(conversation_id, message.id, items)
                return {"message_id": message.id, "suggestions": await self.describe(recorded, ranked)}
        return {"message_id": recent[0].id, "suggestions": []}

    async def describe(self, recorded: Sequence[ReplySuggestion], ranked: Sequence[Ranked]) -> List[Json]:
        confidence = {r.topic: r.confidence for r in ranked}
        titles = await self.titles.describe([s.topic for s in recorded]) if self.titles else None
        return [{"id": s.id, "topic": s.topic, "title": titles[index]["title"] if titles else s.topic,
                 "confidence": confidence.get(s.topic, s.confidence), "text": s.text}
                for index, s in enumerate(recorded)]


def edited(sent: str, suggested: str) -> bool:
    """Whether the agent changed the answer before sending it (whitespace aside)."""
    return " ".join(sent.split()) != " ".join(suggested.split())
