"""Several questions in one message: where they begin, and what the message as a whole should be read as.

Visitors ask two or three things at once ("mihin aikaan olette auki ja milloin on seuraava maksupäivä?")
or hide one question in a long story. Read as one bag of words, such a message gets the label of
whichever question has more words, or of the story. ``split`` cuts a message into clauses at sentence
ends, at a conjunction that a question word follows ("... auki ja milloin ...") and at a comma before
"entä" or "lisäksi" (the word lists are data: resources/clauses_fi.yml); LinearClassifier scores each
clause with the same model as whole messages and ``decide`` chooses, from the whole message's label
and the clauses' readings, what the message is. A clause that is no question (no question mark, no
question word) counts only when the model is very sure of it (``statement_confident``): stories are
full of statements that sound like a topic.

- **priority**: a clause is confidently one of the ``priority`` labels (a request for a person), or one
  of the ``acknowledge`` labels (an upset or lost visitor, a life event) with no confident topic beside
  it, and the whole message is none of these: the message is read as that clause, so an angry message
  that only names a topic in passing is answered as upset first (a message read as a request for a
  person as a whole stays so, whatever its clauses say);
- **feeling first**: the whole message is one of the ``acknowledge`` labels: it stays so, unless a
  clause that asks (a question mark, a question word) is confidently a topic; then it is **answer**
  with that feeling acknowledged first (a story of a lost home that ends "miten ilmoitan uuden
  osoitteen" gets the acknowledgement, the answer and a person);
- **answer**: two or more distinct topics are confident in their own clauses, or one is and an
  ``acknowledge`` clause is too: the message gets the ``several_topics`` intent, and the dialogue
  answers each (up to ``max_topics``), after acknowledging the visitor's feelings and with a person
  offered when an ``acknowledge`` clause was there (a long, polite message that says "I have never
  done this before" and then asks three things gets its three answers and a person);
- **ask**: the whole message is unsure and two or more topics are plausible in their clauses: the
  message gets the ``several_topics`` intent in "ask" mode, and the dialogue asks which one first;
- **switch**: exactly one topic is confident in its clause, and it is not what the whole message
  was read as: the message is read as that clause (a long story with one real question in it);
- **keep**: anything else, including every message of one clause: the whole message's reading stands.

``beside`` is for every message, of one clause or many, whose reading stayed a topic: when the whole
message's probabilities also give an ``acknowledge`` label at least ``feeling_beside`` (before
LinearClassifier's ``min_confidence`` drops a weak reading), the visitor is upset, lost or telling what
happened to them *and* asking ("voiko joku selittää mulle selkokielellä": plain language, and lost):
the message gets the ``several_topics`` intent with that one topic to answer and
the feeling to acknowledge, so the answer comes with the acknowledgement and a person offered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

import yaml

_RESOURCES = Path(__file__).parent / "resources"
SENTENCE_ENDS = frozenset(".!?;:\n")
MIN_QUESTION_LENGTH = 4


@dataclass(frozen=True)
class ClauseWords:
    """The word lists of resources/clauses_fi.yml (folded, lower-case)."""

    question_words: FrozenSet[str]
    question_endings: Tuple[str, ...]
    not_questions: FrozenSet[str]
    conjunctions: FrozenSet[str]
    openers: FrozenSet[str]
    abbreviations: FrozenSet[str]

    def asks(self, word: str) -> bool:
        """A question word ("milloin", "onks") or a word with the question clitic ("voinko")."""
        if word in self.question_words:
            return True
        return (len(word) >= MIN_QUESTION_LENGTH and word not in self.not_questions
                and word.endswith(self.question_endings) and not word.endswith("kko"))

    def opens_question(self, word: str) -> bool:
        return word in self.openers or self.asks(word)


@functools.lru_cache(maxsize=1)
def clause_words(path: Optional[str] = None) -> ClauseWords:
    with open(path or _RESOURCES / "clauses_fi.yml", encoding="utf-8") as handle:
        raw: Dict[str, Any] = yaml.safe_load(handle) or {}

    def words(key: str) -> FrozenSet[str]:
        return frozenset(str(word) for word in raw.get(key) or [])

    return ClauseWords(words("question_words"), tuple(str(e) for e in raw.get("question_endings") or []),
                       words("not_questions"), words("conjunctions"), words("openers"), words("abbreviations"))


@dataclass(frozen=True)
class Span:
    """A token of the message: its (folded, lower-case) text and where it is in the message."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Clause:
    """Tokens ``first`` to ``last`` (inclusive) of the message, and the text they cover."""

    first: int
    last: int
    start: int
    end: int
    question: bool = False  # a question mark ends it, or a question word is in it

    def text(self, message: str) -> str:
        return message[self.start:self.end]


def split(text: str, tokens: Sequence[Span], words: Optional[ClauseWords] = None) -> List[Clause]:
    """The message's clauses in order; a single clause (or none) when there is nothing to split."""
    words = words or clause_words()
    clauses: List[Clause] = []
    first: Optional[int] = None

    def close(last: int) -> None:
        nonlocal first
        if first is not None and last >= first:
            after = text[tokens[last].end:tokens[last + 1].start] if last + 1 < len(tokens) else text[tokens[last].end:]
            question = "?" in after or any(words.asks(token.text) for token in tokens[first:last + 1])
            clauses.append(Clause(first, last, tokens[first].start, tokens[last].end, question))
        first = None

    for index, token in enumerate(tokens):
        if first is None:
            if token.text in words.conjunctions and index + 1 < len(tokens):
                continue  # a clause does not begin with "ja"
            first = index
        if index + 1 == len(tokens):
            close(index)
            break
        following = tokens[index + 1]
        gap = text[token.end:following.start]
        if _sentence_ends(gap, token.text, following.text, words):
            close(index)
        elif "," in gap and following.text in words.openers:
            close(index)  # ", entä ...": a comma before a question word is usually an indirect question
        elif (token.text in words.conjunctions and index > first and words.opens_question(following.text)
              and not words.asks(tokens[index - 1].text)):
            close(index - 1)  # the conjunction belongs to neither clause ("miten ja mistä" is one question)
        elif ")" in gap and token.text.isdigit():
            # "1)", "2)": a list marker, not a word; what follows is the next question
            if index > first:
                close(index - 1)
            first = None
    return clauses


def _sentence_ends(gap: str, before: str, after: str, words: ClauseWords) -> bool:
    ends = [char for char in gap if char in SENTENCE_ENDS]
    if not ends:
        return False
    if set(ends) == {"."} and "\n" not in gap:
        # "esim. liitteet", "18. päivä", "1.3.": an abbreviation or a number, not the end of a sentence
        if before in words.abbreviations or before.isdigit() or after.isdigit():
            return False
    return True


# -- deciding what the message is ------------------------------------------------------------------
ANSWER = "answer"
ASK = "ask"
PRIORITY = "priority"
SWITCH = "switch"
KEEP = "keep"
WHOLE = -1  # a topic of the whole message, not of one clause


@dataclass(frozen=True)
class Settings:
    """LinearClassifier's ``segments`` configuration (config.yml)."""

    topic_prefixes: Tuple[str, ...] = ("faq/", "check_account_status")
    priority: Tuple[str, ...] = ("request_human",)
    acknowledge: Tuple[str, ...] = ("frustrated", "lost")
    confident: float = 0.5
    # A clause that is not a question (no question mark, no question word) counts only this sure:
    # stories are full of statements that sound like a topic ("vuokra pitäisi maksaa kuun alussa").
    statement_confident: float = 0.9
    candidate: float = 0.25
    max_topics: int = 3
    max_clauses: int = 32
    # A topic's answer also acknowledges an ``acknowledge`` label this likely and offers a person
    # (``beside``); None: never.
    feeling_beside: Optional[float] = None

    @classmethod
    def from_config(cls, config: Optional[Dict[str, Any]]) -> "Settings":
        config = dict(config or {})
        defaults = cls()
        return cls(
            topic_prefixes=tuple(config.get("topic_prefixes", defaults.topic_prefixes)),
            priority=tuple(config.get("priority", defaults.priority)),
            acknowledge=tuple(config.get("acknowledge", defaults.acknowledge)),
            confident=float(config.get("confident", defaults.confident)),
            statement_confident=float(config.get("statement_confident", defaults.statement_confident)),
            candidate=float(config.get("candidate", defaults.candidate)),
            max_topics=int(config.get("max_topics", defaults.max_topics)),
            max_clauses=int(config.get("max_clauses", defaults.max_clauses)),
            feeling_beside=(float(config["feeling_beside"]) if config.get("feeling_beside") is not None
                            else defaults.feeling_beside),
        )

    def is_topic(self, label: str) -> bool:
        return any(label == prefix or (prefix.endswith("/") and label.startswith(prefix))
                   for prefix in self.topic_prefixes)


@dataclass(frozen=True)
class Decision:
    """What a message of several clauses is read as (see the module docstring)."""

    kind: str
    clause: Optional[int] = None  # PRIORITY, SWITCH: the clause whose reading the message takes
    # ANSWER, ASK: (label, confidence, clause); clause WHOLE: the whole message (``beside``)
    topics: Tuple[Tuple[str, float, int], ...] = field(default=())
    acknowledge: Optional[str] = None  # ANSWER: the feeling to acknowledge first (an ``acknowledge`` label)


@dataclass(frozen=True)
class Reading:
    """How the model read one clause."""

    label: str
    confidence: float
    question: bool = True


def decide(whole: Tuple[str, float], clauses: Sequence[Reading], settings: Settings) -> Decision:
    """``whole``: the whole message's best label and its probability; ``clauses``: each clause's reading."""
    if len(clauses) < 2:
        return Decision(KEEP)
    label, confidence = whole
    if label in settings.priority:
        return Decision(KEEP)  # asking for a person as a whole: that comes first

    def sure(reading: Reading) -> bool:
        return reading.confidence >= (settings.confident if reading.question else settings.statement_confident)

    if label in settings.acknowledge:
        # upset, lost or a life event as a whole: that comes first, and a real question in it (a clause
        # that asks, confidently a topic) is answered after the acknowledgement
        asked = _distinct([(r.label, r.confidence, i) for i, r in enumerate(clauses)
                           if settings.is_topic(r.label) and r.question and sure(r)])
        return Decision(ANSWER, topics=tuple(asked), acknowledge=label) if asked else Decision(KEEP)

    urgent = [(r.confidence, i) for i, r in enumerate(clauses) if r.label in settings.priority and sure(r)]
    if urgent:
        return Decision(PRIORITY, clause=max(urgent)[1])
    feelings = [(r.confidence, i, r.label) for i, r in enumerate(clauses)
                if r.label in settings.acknowledge and sure(r)]
    confident = _distinct([(r.label, r.confidence, i) for i, r in enumerate(clauses)
                           if settings.is_topic(r.label) and sure(r)])
    if feelings and not confident:
        return Decision(PRIORITY, clause=max(feelings)[1])
    if len(confident) >= 2 or (feelings and confident):
        return Decision(ANSWER, topics=tuple(confident), acknowledge=max(feelings)[2] if feelings else None)
    plausible = _distinct([(r.label, r.confidence, i) for i, r in enumerate(clauses)
                           if settings.is_topic(r.label) and r.question and r.confidence >= settings.candidate])
    if confidence < settings.confident and len(plausible) >= 2:
        return Decision(ASK, topics=tuple(sorted(plausible, key=lambda t: -t[1])))
    if len(confident) == 1 and confident[0][0] != label:
        return Decision(SWITCH, clause=confident[0][2])
    return Decision(KEEP)


def beside(whole: Tuple[str, float], feelings: Dict[str, float], settings: Settings) -> Optional[Decision]:
    """A message read as the topic ``whole`` (label, probability) that is also upset, lost or a life
    event: ``feelings`` are the ``acknowledge`` labels' probabilities for the whole message. None when
    the reading is no topic or no feeling reaches ``feeling_beside``."""
    label, confidence = whole
    if settings.feeling_beside is None or not settings.is_topic(label):
        return None
    found = [(probability, feeling) for feeling, probability in feelings.items()
             if feeling in settings.acknowledge and probability >= settings.feeling_beside]
    if not found:
        return None
    return Decision(ANSWER, topics=((label, confidence, WHOLE),), acknowledge=max(found)[1])


def _distinct(topics: List[Tuple[str, float, int]]) -> List[Tuple[str, float, int]]:
    """Each label once, at its most confident clause, in the order the message asks them."""
    best: Dict[str, Tuple[str, float, int]] = {}
    for topic in topics:
        if topic[0] not in best or topic[1] > best[topic[0]][1]:
            best[topic[0]] = topic
    return sorted(best.values(), key=lambda t: t[2])
