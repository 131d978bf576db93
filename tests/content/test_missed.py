"""The editors' "what the bot missed" inbox: which messages are picked from a tracker, and how they group.

Trackers are built with Rasa's own event classes and ``Event.as_dict()``, the JSON that
``GET /conversations/<id>/tracker`` returns, so the shapes are the real ones.
"""

from __future__ import annotations

import itertools
import random
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import cosine_distances

from content import missed as missed_module
from content.missed import (
    GROUP_DISTANCE,
    LOW_CONFIDENCE,
    Group,
    Missed,
    group_similar,
    missed_in_tracker,
    normalize,
)
from lumo_shared.answers import SMALL_TALK

START = 1_795_000_000.0
FALLBACK_THRESHOLD = 0.55  # config.yml: FallbackClassifier threshold


class Conversation:
    """A tracker's event list, one event a second, as Rasa's HTTP API returns it."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def add(self, event: Event) -> float:
        event.timestamp = START + len(self.events)
        self.events.append(event.as_dict())
        return event.timestamp

    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.95,
        ranking: Optional[List[Tuple[str, float]]] = None,
        faq: Optional[Tuple[str, float]] = None,
        language: Optional[str] = None,
    ) -> float:
        """A visitor message as NLU classified it; ``faq`` is the response selector's (topic, confidence),
        ``language`` what components/other_language.py identified (None: not sure)."""
        ranking = ranking or [(intent, confidence)]
        parse_data: Dict[str, Any] = {"intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
                                      "language": {"name": language, "confidence": 0.9 if language else 0.0}}
        if faq:
            key, answer_confidence = faq
            parse_data["response_selector"] = {
                "all_retrieval_intents": ["faq"],
                "faq": {
                    "response": {
                        "responses": [{"text": "(vastaus)"}],
                        "confidence": answer_confidence,
                        "intent_response_key": key,
                        "utter_action": f"utter_{key}",
                    },
                    "ranking": [{"id": 1234, "confidence": answer_confidence, "intent_response_key": key}],
                },
            }
        event = UserUttered(text, {"name": intent, "confidence": confidence}, [], parse_data, input_channel="rest")
        return self.add(event)

    def fallback(self, text: str, ranking: List[Tuple[str, float]], faq: Optional[Tuple[str, float]] = None) -> float:
        """What the FallbackClassifier leaves: nlu_fallback at the threshold, first in the ranking."""
        return self.user(
            text, "nlu_fallback", FALLBACK_THRESHOLD, [("nlu_fallback", FALLBACK_THRESHOLD)] + ranking, faq
        )

    def button(self, payload: str) -> float:
        return self.user(payload, payload.lstrip("/"), 1.0)

    def action(self, name: str) -> None:
        self.add(ActionExecuted(name, policy="RulePolicy", confidence=1.0))

    def bot(self, response: str, custom: Optional[Dict[str, Any]] = None) -> None:
        self.add(BotUttered("(botin vastaus)", {"custom": custom} if custom else {}, {"utter_action": response}))

    def answer(self, response: str) -> None:
        self.action(response)
        self.bot(response)
        self.action("action_listen")

    def escalate(self) -> None:
        """action_escalate when a human can come: the handoff message, the signal, the pause."""
        self.action("action_escalate")
        self.bot("utter_handoff")
        self.bot("action_escalate", custom={"handoff": {"version": 1, "reason": "visitor_request"}})
        self.add(ConversationPaused())
        self.action("action_listen")

    def resume(self) -> None:
        self.add(ConversationResumed())
        self.action("action_listen")

    def slot(self, name: str, value: Any) -> None:
        self.add(SlotSet(name, value))

    def new_session(self) -> None:
        self.action("action_session_start")
        self.add(SessionStarted())
        self.action("action_listen")

    def missed(self, **kwargs: Any) -> List[Missed]:
        return missed_in_tracker("keskustelu-1", self.events, **kwargs)


def test_fallback_guess_is_the_best_real_intent_or_its_faq_topic():
    c = Conversation()
    c.answer("utter_greet")
    first = c.fallback(
        "voiko toimiston eteen pysäköidä", [("faq", 0.41), ("out_of_scope", 0.33)], faq=("faq/contact", 0.38)
    )
    c.answer("action_handle_fallback")
    second = c.fallback(
        "missä vaiheessa mun asia on", [("check_account_status", 0.5), ("faq", 0.45)], faq=("faq/processing_time", 0.7)
    )
    c.answer("action_handle_fallback")

    assert c.missed() == [
        Missed("keskustelu-1", first, "voiko toimiston eteen pysäköidä", "fallback", "faq/contact", 0.38),
        Missed("keskustelu-1", second, "missä vaiheessa mun asia on", "fallback", "check_account_status", 0.5),
    ]


def test_low_confidence_intent_or_faq_answer_is_reported_and_a_sure_answer_is_not():
    c = Conversation()
    sure = c.user("miten kirjaudun asiointipalveluun", "faq", 0.97, faq=("faq/login", 0.93))
    c.answer("utter_faq")
    unsure_answer = c.user("saako hakemuksen tehdä paperilla", "faq", 0.9, faq=("faq/apply", 0.6))
    c.answer("utter_faq")
    unsure_intent = c.user("onko mun rahat jo lähteny", "check_account_status", 0.62)
    c.answer("action_check_account_status")

    found = c.missed()
    assert [(m.event_timestamp, m.reason, m.guess, m.confidence) for m in found] == [
        (unsure_answer, "low_confidence", "faq/apply", 0.6),
        (unsure_intent, "low_confidence", "check_account_status", 0.62),
    ]
    assert sure not in [m.event_timestamp for m in found]
    assert LOW_CONFIDENCE == 0.75
    assert c.missed(low_confidence=0.6) == []


def test_escalation_after_request_human_reports_the_question_before_it():
    c = Conversation()
    c.user("moi", "greet", 0.99)
    c.answer("utter_greet")
    question = c.user("voiko koiran ottaa mukaan toimistolle", "out_of_scope", 0.91)
    c.answer("utter_out_of_scope")
    c.user("okei", "affirm", 0.97)
    c.answer("utter_anything_else")
    c.user("haluan puhua ihmisen kanssa", "request_human", 0.98)
    c.escalate()
    # While a human has the conversation Rasa still records (and parses) what the visitor writes:
    # that is no message to the bot.
    c.fallback("joo eli se koira on pieni, saako sen tuoda?", [("faq", 0.3)], faq=("faq/contact", 0.2))
    c.user("kiitos", "thank", 0.99)

    assert c.missed() == [
        Missed("keskustelu-1", question, "voiko koiran ottaa mukaan toimistolle", "escalation", "out_of_scope", 0.91)
    ]


def test_an_upset_visitor_who_takes_the_person_reports_the_question_before_the_complaint():
    c = Conversation()
    question = c.user("saako opintotuen ja asumistuen yhtä aikaa", "faq", 0.93)
    c.answer("utter_faq/apply")
    c.user("TÄÄ ON IHAN PASKA PALVELU", "frustrated", 0.99)
    c.answer("action_offer_person")
    c.button("/request_human")
    c.escalate()

    assert [(m.event_timestamp, m.text, m.reason) for m in c.missed()] == [
        (question, "saako opintotuen ja asumistuen yhtä aikaa", "escalation")]


def test_a_complaint_alone_is_no_content_gap():
    c = Conversation()
    c.user("mä en tajuu mitään", "lost", 0.98)
    c.answer("action_offer_person")
    c.button("/request_human")
    c.escalate()

    assert c.missed() == []


def test_a_message_already_reported_is_not_reported_again_for_the_escalation():
    c = Conversation()
    first = c.fallback("tarvitsen todistuksen saamastani tuesta", [("faq", 0.44)], faq=("faq/apply", 0.5))
    c.answer("action_handle_fallback")
    c.button("/request_human")
    c.escalate()

    assert [(m.event_timestamp, m.reason) for m in c.missed()] == [(first, "fallback")]


def test_second_fallback_in_a_row_escalates_without_duplicates():
    c = Conversation()
    first = c.fallback("todistus tuesta vuokranantajalle", [("faq", 0.4)], faq=("faq/apply", 0.45))
    c.answer("action_handle_fallback")
    second = c.fallback("siis tulotodistus", [("faq", 0.35)], faq=("faq/payment_dates", 0.4))
    c.action("action_handle_fallback")  # escalates itself: handoff after fallback, then the pause
    c.bot("utter_handoff_after_fallback")
    c.add(ConversationPaused())

    assert [(m.event_timestamp, m.reason) for m in c.missed()] == [(first, "fallback"), (second, "fallback")]


def test_button_payloads_are_skipped_and_the_escalation_finds_the_typed_question():
    c = Conversation()
    typed = c.user("mistä näen onko päätös tullut", "faq", 0.93, faq=("faq/processing_time", 0.9))
    c.answer("utter_faq")
    # A payload never counts, whatever its parse data says.
    c.user("/check_account_status", "nlu_fallback", 0.55, [("nlu_fallback", 0.55)])
    c.answer("action_handle_fallback")
    c.button("/request_human")
    c.escalate()

    assert [(m.event_timestamp, m.reason, m.text, m.guess) for m in c.missed()] == [
        (typed, "escalation", "mistä näen onko päätös tullut", "faq/processing_time")
    ]


def test_personal_data_is_masked_and_a_message_of_only_personal_data_is_skipped():
    c = Conversation()
    question = c.fallback(
        "mun hetu on 131052-308T ja numero 040 1234567, miksei hakemus etene", [("check_account_status", 0.5)]
    )
    c.answer("action_handle_fallback")
    c.fallback("131052-308T", [("check_account_status", 0.3)])
    c.answer("action_handle_fallback")
    c.user("haluan että joku soittaa minulle", "request_human", 0.96)
    c.escalate()
    c.resume()
    asked = c.user("voiko asiakaspalvelija soittaa", "faq", 0.88, faq=("faq/contact", 0.86))
    c.answer("utter_faq")
    c.user("040 1234567", "out_of_scope", 0.8)
    c.answer("utter_out_of_scope")
    c.user("ihmiselle kiitos", "request_human", 0.9)
    c.escalate()

    found = c.missed()
    assert [(m.event_timestamp, m.reason) for m in found] == [(question, "fallback"), (asked, "escalation")]
    assert found[0].text == "mun hetu on [henkilötunnus] ja numero [puhelinnumero], miksei hakemus etene"
    assert not any(secret in repr(found) for secret in ("131052", "308T", "1234567"))


def test_each_escalation_looks_only_after_the_previous_one_and_in_its_own_session():
    c = Conversation()
    question = c.user("miten valitan päätöksestä", "faq", 0.9, faq=("faq/feedback", 0.81))
    c.answer("utter_faq")
    c.user("ihminen", "request_human", 0.93)
    c.escalate()
    c.resume()
    c.user("haluan puhua ihmisen kanssa uudestaan", "request_human", 0.97)
    c.escalate()  # nothing substantive since the first escalation
    c.resume()
    c.new_session()
    c.user("hei", "greet", 0.99)
    c.user("asiakaspalvelija kiitos", "request_human", 0.95)
    c.escalate()  # a new visit: the question of the earlier session is not this one's

    assert [(m.event_timestamp, m.reason) for m in c.missed()] == [(question, "escalation")]


def test_escalation_after_a_failed_lookup_is_no_content_gap():
    c = Conversation()
    c.user("onko hakemukseni käsitelty", "check_account_status", 0.96)
    c.action("action_check_account_status")
    c.bot("utter_account_backend_unavailable")
    c.slot("failed_action", "action_check_account_status")
    c.action("action_listen")
    c.button("/request_human")
    c.escalate()

    assert c.missed() == []


def test_empty_texts_and_events_without_parse_data_are_ignored():
    events = [
        {"event": "user", "timestamp": START, "text": "", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "user", "timestamp": START + 1, "text": None},
        {"event": "user", "timestamp": START + 2, "text": "   "},
        {"event": "user", "timestamp": START + 3, "text": "onko teillä koiria"},
        {"event": "action", "timestamp": START + 4, "name": "action_escalate"},
    ]
    assert missed_in_tracker("k", events) == [Missed("k", START + 3, "onko teillä koiria", "escalation", None, None)]
    assert missed_in_tracker("k", []) == []


def test_swedish_and_english_messages_are_missed_with_their_language_and_no_topic_guess():
    c = Conversation()
    english = c.user("how do I log in", "other_language", 0.96,
                     [("other_language", 0.96), ("out_of_scope", 0.03)], language="en")
    c.answer("action_answer_other_language")
    swedish = c.user("när kommer mina pengar", "other_language", 0.9,
                     [("other_language", 0.9), ("faq", 0.1)], faq=("faq/payment_dates", 0.8), language="sv")
    c.answer("action_answer_other_language")
    c.user("thanks", "thank", 0.95, language="en")  # answered in English (a variation of utter_thank): no miss
    c.answer("utter_thank")
    finnish = c.fallback("mitäs tähän nyt sanois", [("out_of_scope", 0.4)])
    c.answer("action_handle_fallback")

    assert c.missed() == [
        Missed("keskustelu-1", english, "how do I log in", "other_language", None, 0.96, "en"),
        Missed("keskustelu-1", swedish, "när kommer mina pengar", "other_language", None, 0.9, "sv"),
        Missed("keskustelu-1", finnish, "mitäs tähän nyt sanois", "fallback", "out_of_scope", 0.4, None),
    ]


def test_a_message_of_only_emoji_reaches_the_inbox_marked_as_emoji():
    c = Conversation()
    angry = c.fallback("😡😡", [("out_of_scope", 0.3)])
    c.answer("action_handle_fallback")
    c.user("👍", "affirm", 0.97)  # understood: no miss
    c.answer("utter_anything_else")
    unsure = c.user("🤔", "out_of_scope", 0.5)
    c.answer("utter_out_of_scope")
    c.user("??? 123", "out_of_scope", 0.4)  # no letters and no emoji: nothing for an editor to read
    c.answer("utter_out_of_scope")

    assert [(m.event_timestamp, m.text, m.reason, m.language) for m in c.missed()] == [
        (angry, "😡😡", "fallback", "emoji"),
        (unsure, "🤔", "low_confidence", "emoji"),
    ]


def test_a_finnish_message_is_not_marked_with_a_language():
    c = Conversation()
    c.user("onko hakemukseni käsitelty", "check_account_status", 0.6, language="fi")
    c.answer("action_check_account_status")
    [found] = c.missed()
    assert (found.reason, found.language) == ("low_confidence", None)


def test_emoji_group_by_their_emoji():
    groups = group_similar([(1, "😡", None), (2, "😡", None), (3, "👍", None), (4, "mitäs nyt", None)])
    assert sorted(sorted(g.member_ids) for g in groups) == [[1, 2], [3], [4]]


def test_small_talk_intents_are_intents_of_the_domain(domain):
    assert SMALL_TALK <= set(domain["intents"])
    assert not {"faq", "check_account_status", "out_of_scope"} & SMALL_TALK


# --- grouping -------------------------------------------------------------------------------

# The labelled set GROUP_DISTANCE was tuned on: everyday Finnish questions a benefits agency's bot
# does not know, with typos, missing ä/ö and spoken forms; the last five are one of a kind.
LABELLED = {
    "pysäköinti": [
        "voiko toimiston eteen pysäköidä",
        "voiko toimiston edessä pysakoida",
        "pysäköinti toimistolla",
        "pysäköinti toimistolla",
        "onko toimistolla pysäköintipaikkoja",
        "mihin voin pysäköidä kun tulen toimistolle",
        "onks teidän toimiston lähellä parkkipaikkaa",
        "saako toimiston pihaan parkkeerata",
        "pysakointi helsingin toimisto",
    ],
    "ulkomaat": [
        "muutan ulkomaille saanko silti tukea",
        "saako tukea jos muuttaa ulkomaille",
        "jos muutan ruotsiin loppuuko tuki",
        "tuki ulkomailla asuessa",
        "muutto ulkomaille kesken tuen",
        "asun espanjassa puoli vuotta, maksetaanko tuki sinne",
    ],
    "verotus": [
        "pitääkö tuesta maksaa veroa",
        "onko tuki veronalaista tuloa",
        "paljonko tuesta menee veroa",
        "tarviinko uuden verokortin tukea varten",
        "verotetaanko tukea",
        "mikä veroprosentti tukeen",
    ],
    "takaisinperintä": [
        "sain liikaa rahaa, pitääkö maksaa takaisin",
        "joudunko maksamaan tuen takaisin",
        "takaisinperintä kirje tuli mitä teen",
        "mulle maksettiin liikaa tukea",
        "voiko takaisin maksun maksaa erissä",
        "takasinperintä päätös",
    ],
    "valitus": [
        "miten valitan päätöksestä",
        "haluan valittaa saamastani päätöksestä",
        "en oo tyytyväinen päätökseen mitä voin tehdä",
        "oikaisuvaatimus miten tehdään",
        "valitus päätöksestä",
        "kuinka kauan on aikaa valittaa paatoksesta",
    ],
    "työpaikat": [
        "onko teillä kesätöitä",
        "haen töitä lumolta",
        "avoimet työpaikat",
        "etsittekö uusia työntekijöitä",
        "mistä näkee lumon avoimet työpaikat",
        "kesatyopaikka lumo",
    ],
    "tulot": [
        "paljonko saan tienata tuen lisäksi",
        "voinko tehdä töitä samalla kun saan tukea",
        "vaikuttaako palkka tukeen",
        "tulorajat opiskelijalle",
        "saanko käydä töissä vaikka saan tukea",
        "kuinka paljon voi ansaita ettei tuki pienene",
    ],
    "paperilla": [
        "voiko hakemuksen tehdä paperilla",
        "saako paperisen hakulomakkeen",
        "mistä saan paperilomakkeen",
        "haluan hakea paperilla en osaa käyttää nettiä",
        "voinko lähettää hakemuksen postissa",
        "paperinen hakemus postitse",
    ],
    "kielet": [
        "saako palvelua englanniksi",
        "puhutteko englantia",
        "palveletteko ruotsiksi",
        "tarvitsen tulkin",
        "onko tulkkipalvelua",
        "voiko asioida englannin kielellä",
    ],
    "koirat": ["onko teillä koiria"],
    "y-tunnus": ["mikä on lumon y-tunnus"],
    "johtaja": ["kuka on teidän toimitusjohtaja"],
    "kahvila": ["voiko aulan kahvilassa maksaa kortilla"],
    "sää": ["sataako huomenna"],
}

# Written after GROUP_DISTANCE was fixed and never tuned on: a check that it generalises.
HELD_OUT = {
    "postiosoite": [
        "mihin osoitteeseen lähetän kirjeen",
        "lumon postiosoite",
        "minne voi lähettää paperit postilla",
        "mikä on teidän postiosoite",
        "postiosoite mihin liitteet",
    ],
    "kuolema": [
        "isäni kuoli mitä pitää tehdä",
        "omainen kuollut, loppuuko tuki",
        "kuolemantapauksesta ilmoittaminen",
        "miten ilmoitan kuolemasta",
        "puoliso kuoli voinko saada tukea",
    ],
    "maksu puuttuu": [
        "rahat ei tullu tilille",
        "maksu ei ole tullut",
        "tuki ei tullut tilille tänään",
        "miksi en saanut rahaa",
        "maksua ei oo kuulunu",
    ],
    "peruminen": [
        "haluan perua hakemuksen",
        "miten peruutan hakemukseni",
        "hakemuksen peruminen",
        "voiko hakemuksen perua",
        "peru hakemus",
    ],
    "soittopyyntö": [
        "voitteko soittaa minulle",
        "soittopyyntö",
        "pyydän takaisinsoittoa",
        "soittakaa mulle",
        "voiko joku soittaa mulle huomenna",
    ],
    "valtakirja": [
        "voinko hoitaa äidin asioita",
        "valtakirja",
        "miten hoidan toisen puolesta asioita",
        "asiointi toisen puolesta",
        "voiko lapsi hoitaa vanhemman asiat valtakirjalla",
    ],
    "huijaus": [
        "sain epäilyttävän tekstiviestin lumolta",
        "onko tämä huijausviesti",
        "huijaus sähköposti lumon nimissä",
        "tuli outo viesti jossa pyydetään pankkitunnuksia",
        "kalasteluviesti",
    ],
    "todistus": [
        "tarvitsen todistuksen saamastani tuesta",
        "tulotodistus",
        "miten saan todistuksen tuesta",
        "todistus tuesta vuokranantajalle",
        "voiko tilata todistuksen",
    ],
    "apteekki": ["missä on lähin apteekki"],
    "lääkäri": ["voitteko suositella hyvää lääkäriä"],
    "kello": ["paljonko kello on"],
}

PARKING = ["voiko toimiston eteen pysäköidä", "voiko toimiston edessä pysakoida", "pysäköinti toimistolla"]


def items_of(texts: List[str], guess: Optional[str] = None) -> List[Tuple[int, str, Optional[str]]]:
    return [(number, text, guess) for number, text in enumerate(texts)]


def cluster_labels(groups: List[Group], size: int) -> List[int]:
    labels = [-1] * size
    for number, group in enumerate(groups):
        for member in group.member_ids:
            labels[member] = number
    return labels


def pair_precision(truth: List[str], found: List[int]) -> float:
    """Of the pairs put in one group, the share that belong together: wrong merges hide topics."""
    pairs = [(a, b) for a, b in itertools.combinations(range(len(truth)), 2) if found[a] == found[b]]
    return sum(truth[a] == truth[b] for a, b in pairs) / len(pairs)


def measure(labelled: Dict[str, List[str]]) -> Tuple[float, float]:
    texts = [text for examples in labelled.values() for text in examples]
    truth = [topic for topic, examples in labelled.items() for _ in examples]
    found = cluster_labels(group_similar(items_of(texts)), len(texts))
    return adjusted_rand_score(truth, found), pair_precision(truth, found)


def test_grouping_quality_on_labelled_finnish_questions():
    # GROUP_DISTANCE 0.85, char 2-5-grams: measured ARI 0.69 and pair precision 0.90 on LABELLED
    # (0.67 / 0.96 at 0.825, 0.69 / 0.79 at 0.875: beyond 0.85 groups start to mix topics), and
    # ARI 0.74 and precision 1.00 on HELD_OUT. Among the project's 756 FAQ and intent training
    # examples (16 topics) LABELLED still scores ARI 0.64, precision 0.91.
    ari, precision = measure(LABELLED)
    assert ari >= 0.6 and precision >= 0.8
    ari, precision = measure(HELD_OUT)
    assert ari >= 0.6 and precision >= 0.85


def test_parking_questions_group_and_a_question_about_dogs_does_not_join_them():
    texts = PARKING + ["onko teillä koiria"]
    groups = group_similar(items_of(texts))
    assert sorted(group.member_ids for group in groups) == [(0, 1, 2), (3,)]

    everything = [text for examples in LABELLED.values() for text in examples]
    groups = group_similar(items_of(everything))
    parking = next(group for group in groups if everything.index(PARKING[0]) in group.member_ids)
    assert {everything.index(text) for text in PARKING} <= set(parking.member_ids)
    assert everything.index("onko teillä koiria") not in parking.member_ids


def test_identical_texts_always_group():
    texts = ["Pysäköinti toimistolla?", "pysakointi  toimistolla", "onko teillä koiria", "Onko teillä koiria!!!"]
    groups = group_similar(items_of(texts), threshold=0.0)
    assert sorted(group.member_ids for group in groups) == [(0, 1), (2, 3)]
    assert normalize("Onks teidän toimiston edessä pysäköinti???") == "toimiston edessa pysakointi"


def test_group_fields_representative_texts_and_guess():
    items = [
        (10, "pysäköinti toimistolla", "faq/contact"),
        (11, "voiko toimiston eteen pysäköidä", "out_of_scope"),
        (12, "pysäköinti toimistolla", "out_of_scope"),
        (13, "voiko toimiston edessä pysakoida", None),
        (14, "onko teillä koiria", None),
        (15, "pysäköinti toimistolla", "out_of_scope"),
    ]
    groups = group_similar(items)
    assert groups == [
        Group(
            representative="pysäköinti toimistolla",
            count=5,
            member_ids=(10, 11, 12, 13, 15),
            texts=("pysäköinti toimistolla", "voiko toimiston edessä pysakoida", "voiko toimiston eteen pysäköidä"),
            guess="out_of_scope",
        ),
        Group("onko teillä koiria", 1, (14,), ("onko teillä koiria",), None),
    ]


def test_representative_is_the_text_nearest_the_centre_and_texts_are_capped():
    texts = ["tulotodistus", "tarvitsen todistuksen tuesta", "todistus tuesta", "todistus tuesta vuokranantajalle"]
    texts += [f"todistus tuesta {n}" for n in range(12)]
    groups = group_similar(items_of(texts), threshold=0.95)
    assert len(groups) == 1
    assert groups[0].representative == "todistus tuesta"
    assert groups[0].count == 16 and len(groups[0].texts) == 10


def test_empty_single_and_unreadable_inputs():
    assert group_similar([]) == []
    assert group_similar([(7, "onko teillä koiria", "out_of_scope")]) == [
        Group("onko teillä koiria", 1, (7,), ("onko teillä koiria",), "out_of_scope")
    ]
    groups = group_similar([(1, "???", None), (2, "!!!", None), (3, "?", None)])
    assert sum(group.count for group in groups) == 3


def test_output_does_not_depend_on_input_order():
    texts = [text for examples in LABELLED.values() for text in examples]
    items = items_of(texts, "faq/contact")
    shuffled = items[:]
    random.Random(4).shuffle(shuffled)

    def canonical(groups: List[Group]):
        return [(g.representative, g.count, tuple(sorted(g.member_ids)), g.texts, g.guess) for g in groups]

    assert canonical(group_similar(items)) == canonical(group_similar(shuffled))
    counts = [group.count for group in group_similar(items)]
    assert counts == sorted(counts, reverse=True)


def test_distances_are_computed_block_by_block_like_a_full_matrix(monkeypatch):
    texts = [text for examples in LABELLED.values() for text in examples]
    vectors = missed_module._vectors(sorted({normalize(text) for text in texts}))
    full = cosine_distances(vectors)
    expected = full[np.triu_indices(full.shape[0], k=1)]
    monkeypatch.setattr(missed_module, "_BLOCK", 7)
    assert np.allclose(missed_module._condensed_distances(vectors), expected)


def test_a_large_inbox_is_grouped_whole():
    # Not timed (bench/ is for that): 2000 messages take well under a second.
    rng = random.Random(1)
    texts = [text for examples in LABELLED.values() for text in examples]
    words = " ".join(texts).split()
    many = [f"{rng.choice(texts)} {rng.choice(words)}" for _ in range(2000)]
    groups = group_similar(items_of(many))
    assert sorted(member for group in groups for member in group.member_ids) == list(range(2000))
    assert GROUP_DISTANCE == pytest.approx(0.85)
