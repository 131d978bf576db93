"""What the bot missed: visitor messages for the editors' inbox, grouped by similarity.

The live-agent service reads a conversation's tracker from Rasa's HTTP API
(``GET /conversations/<id>/tracker``); ``missed_in_tracker`` picks from its events the visitor
messages the bot did not handle well:

* ``fallback``: the FallbackClassifier replaced the intent with ``nlu_fallback``;
* ``low_confidence``: answered, but the intent, or for an FAQ topic the intent or the response
  selector's answer, had a confidence below ``LOW_CONFIDENCE``;
* ``escalation``: the visitor's last substantive message before ``action_escalate`` (not the
  "I want a human" itself), when it was not already reported for one of the reasons above;
* ``other_language``: written in a language the bot has no content in (Swedish, English: the intent
  ``other_language`` of components/other_language.py); the bot explained the service in that language,
  but the question itself went unanswered.

Each message carries its ``language`` for the editors: the language components/other_language.py
identified ("sv", "en"; in the parse data's ``language``), or "emoji" for a message that is nothing but
emoji; None for Finnish (and for messages the identifier was not sure of).

Only what editors can act on is reported. Left out are messages written while a human had the
conversation (the tracker is paused then, but still records and parses them), button payloads
("/request_human"), messages that are nothing but personal data (an emoji-only message is kept: it is
what the visitor wrote, and the bot may have missed it), and escalations after a failed
lookup (handoff reason ``action_failed``: the bot understood, the backend did not answer). Text
is always masked with ``lumo_shared.privacy.mask_personal_data``.

``group_similar`` then groups the messages for the inbox, so that "voiko toimiston eteen
pysäköidä" and "pysäköinti toimistolla" are one row with a count. Finnish chat text has typos,
missing ä/ö, spoken forms and case endings, so texts are compared as TF-IDF vectors of character
n-grams of a normalised text, and grouped by average-linkage clustering of cosine distances,
cut at ``GROUP_DISTANCE``. How that threshold was chosen, and what it measures, is in
tests/content/test_missed.py.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from components.finnish_morphology import colloquial_table, fold_diacritics
from components.language_id import FINNISH, only_emoji
from lumo_shared.answers import SMALL_TALK
from lumo_shared.handoff import ESCALATION_ACTION
from lumo_shared.privacy import mask_personal_data
from lumo_shared.tracker_events import FAILED_ACTION_SLOT, FALLBACK_INTENT, as_float, full_label, intent_name

if TYPE_CHECKING:  # SciPy and scikit-learn load on the first grouping: the service starts ~60 MB smaller
    from scipy.sparse import csr_matrix

# Below this an answer counts as uncertain (the FallbackClassifier's threshold is 0.55).
LOW_CONFIDENCE = 0.75

# Intents of domain.yml that carry no question of their own: the message before them is what
# the visitor wanted help with ("frustrated", "lost": how the visitor feels, not what they asked;
# "life_event": what happened to them, no question).
# The intent components/other_language.py gives a message in a language without content (config.yml).
OTHER_LANGUAGE_INTENT = "other_language"
# ``Missed.language`` of a message that is nothing but emoji.
EMOJI = "emoji"

@dataclass(frozen=True)
class Missed:
    conversation_id: str
    event_timestamp: float  # Rasa event timestamp: together with conversation_id a unique key
    text: str  # visitor text with personal data masked (lumo_shared.privacy.mask_personal_data)
    reason: str  # "fallback" | "low_confidence" | "escalation" | "other_language"
    guess: Optional[str]  # best non-fallback label: "faq/login" for faq (from the response selector), else the intent
    confidence: Optional[float]  # of the guess; for an FAQ topic the lower of intent and answer confidence
    language: Optional[str] = None  # "sv", "en", "emoji"; None: Finnish (or not sure)


Verdict = Tuple[str, Optional[str], Optional[float]]  # (reason, guess, confidence)

# Tags that mask_personal_data puts in place of personal data ("[puhelinnumero]").
_MASK_TAG = re.compile(r"\[[^\[\]\s]+\]")
_LETTER = re.compile(r"[^\W\d_]")


def visible_text(event: Dict[str, Any]) -> Optional[str]:
    """The masked text of a user event, or None when there is nothing for an editor to read.

    Button payloads ("/request_human") are no visitor wording, and a message that is only an
    identity code or a phone number says nothing about what the bot should know.
    """
    text = event.get("text")
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or text.startswith("/"):
        return None
    masked = " ".join(mask_personal_data(text).split())
    if not _LETTER.search(_MASK_TAG.sub(" ", masked)) and not only_emoji(masked):
        return None
    return masked


def language_of(event: Dict[str, Any], text: str) -> Optional[str]:
    """The language to mark a missed message with: the identified one unless Finnish, "emoji", or None."""
    identified = ((event.get("parse_data") or {}).get("language") or {}).get("name")
    if isinstance(identified, str) and identified and identified != FINNISH:
        return identified
    return EMOJI if only_emoji(text) else None


def judge(event: Dict[str, Any], low_confidence: float = LOW_CONFIDENCE) -> Optional[Verdict]:
    """(reason, guess, confidence) when the NLU result of a user event shows a miss, else None."""
    parse_data = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    name = intent.get("name")
    if name == OTHER_LANGUAGE_INTENT:
        # No guess: the Finnish classifier's reading of a Swedish or English text is no topic to add it to.
        return "other_language", None, as_float(intent.get("confidence"))
    if name == FALLBACK_INTENT:
        # The FallbackClassifier puts itself first in the ranking; the original prediction follows.
        for entry in parse_data.get("intent_ranking") or []:
            candidate = entry.get("name")
            if candidate and candidate != FALLBACK_INTENT:
                guess, confidence = full_label(parse_data, candidate, as_float(entry.get("confidence")))
                return "fallback", guess, confidence
        return "fallback", None, None
    guess, confidence = full_label(parse_data, name, as_float(intent.get("confidence")))
    if name and confidence is not None and confidence < low_confidence:
        return "low_confidence", guess, confidence
    return None


def missed_in_tracker(
    conversation_id: str, events: List[Dict[str, Any]], low_confidence: float = LOW_CONFIDENCE
) -> List[Missed]:
    """The messages of one conversation the bot missed, in conversation order, each at most once."""
    found: Dict[int, Missed] = {}
    texts: Dict[int, str] = {}
    window: List[int] = []  # substantive visitor messages since the last escalation or session start
    paused = False
    failed_since_last_user = failed_before_last_user = False

    def missed(index: int, reason: str, guess: Optional[str], confidence: Optional[float]) -> Missed:
        return Missed(
            conversation_id=conversation_id,
            event_timestamp=as_float(events[index].get("timestamp")) or 0.0,
            text=texts[index],
            reason=reason,
            guess=guess,
            confidence=confidence,
            language=language_of(events[index], texts[index]),
        )

    for index, event in enumerate(events):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            # Rasa resets the tracker: not paused, slots empty, a new visit.
            window, paused = [], False
            failed_since_last_user = failed_before_last_user = False
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
        elif kind == "slot" and event.get("name") == FAILED_ACTION_SLOT:
            failed_since_last_user = bool(event.get("value"))
        elif kind == "user" and not paused:
            # As in actions.handoff: the escalation is "action_failed" when the lookup failed in
            # the bot turn just before the visitor's latest message.
            failed_before_last_user, failed_since_last_user = failed_since_last_user, False
            text = visible_text(event)
            if text is None:
                continue
            texts[index] = text
            verdict = judge(event, low_confidence)
            if verdict is not None:
                found[index] = missed(index, *verdict)
            if intent_name(event) not in SMALL_TALK:
                window.append(index)
        elif kind == "action" and event.get("name") == ESCALATION_ACTION:
            if window and not failed_before_last_user and window[-1] not in found:
                last = window[-1]
                parse_data = events[last].get("parse_data") or {}
                intent = parse_data.get("intent") or {}
                guess, confidence = full_label(parse_data, intent.get("name"), as_float(intent.get("confidence")))
                found[last] = missed(last, "escalation", guess, confidence)
            window = []
    return [found[index] for index in sorted(found)]


# --- grouping -------------------------------------------------------------------------------

# Average cosine distance at which two groups are no longer merged; tuned on the labelled
# Finnish set in tests/content/test_missed.py (see there for what it measures).
GROUP_DISTANCE = 0.85
MAX_TEXTS = 10
NGRAMS = (2, 5)
# Rows of the similarity matrix computed at once: bounds the memory of the sparse products.
_BLOCK = 512

# Question and function words that every visitor message has ("voiko", "onko", "minun"): they
# would make unrelated questions look alike. Folded spelling, after the spoken-form table.
_FUNCTION_WORDS = frozenset(
    fold_diacritics(word)
    for word in """
    minä minun minulla minulle minulta minua sinä sinun sinulla sinulle me meillä meidän meille
    te teillä teidän teille hän hänen he se sen ne tämä tämän tuo nämä
    olen olet on olemme olette ovat oli olisi ole olla olenko oletko onko onkohan
    voi voin voiko voinko voisiko voisin voitteko voisitteko saa saan saako saanko saisinko
    mikä mitä miksi mihin mistä missä miten kuinka milloin kuka
    ja tai vai sekä mutta että jos kun kuin niin nyt jo vielä myös vain ihan siis eli
    hei moi terve kiitos kiitti joo juu
    """.split()
)
_WORD = re.compile(r"[a-z0-9]+")
_REPEATS = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Group:
    representative: str  # the member text closest to the group's centre
    count: int
    member_ids: Tuple[int, ...]  # ids of the input items, in input order
    texts: Tuple[str, ...]  # distinct member texts, most common first, at most 10
    guess: Optional[str]  # most common guess of members


def normalize(text: str) -> str:
    """The form texts are compared in: lower case, ä/ö/å folded, spoken forms and function words out.

    "Onks teidän toimiston edessä pysäköinti???" -> "toimiston edessa pysakointi".
    """
    folded = _MASK_TAG.sub(" ", text)
    folded = _REPEATS.sub(r"\1\1", fold_diacritics(folded.lower()))
    spoken = _spoken_forms()
    words = [spoken.get(word, word) for word in _WORD.findall(folded)]
    content = [word for word in words if word not in _FUNCTION_WORDS]
    # A message of function words only ("onko?") keeps them: better than comparing nothing; one of
    # emoji only is compared by its emoji.
    return " ".join(content or words) or "".join(char for char in text if not char.isspace())


@functools.lru_cache(maxsize=1)
def _spoken_forms() -> Dict[str, str]:
    """The project's spoken-form table ("onks" -> "onko"), folded like the text."""
    return {fold_diacritics(spoken): fold_diacritics(standard) for spoken, standard in colloquial_table().items()}


def _vectors(texts: Sequence[str]) -> Optional["csr_matrix"]:
    """L2-normalised TF-IDF rows of character n-grams (within words), or None without any n-gram."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, dtype=np.float64)
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary: no text has a character to compare
        return None


def _condensed_distances(vectors: "csr_matrix") -> np.ndarray:
    """Cosine distances of all pairs in SciPy's condensed order, computed a block of rows at a time."""
    n = vectors.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    position = 0
    transposed = vectors.T.tocsc()
    for start in range(0, n - 1, _BLOCK):
        block = (vectors[start : start + _BLOCK] @ transposed).toarray()
        for offset in range(block.shape[0]):
            row = block[offset, start + offset + 1 :]
            out[position : position + row.size] = row
            position += row.size
    np.subtract(1.0, out, out=out)
    np.clip(out, 0.0, 2.0, out=out)
    return out


def _clusters(vectors: Optional["csr_matrix"], size: int, threshold: float) -> np.ndarray:
    """Cluster number per row: average linkage on cosine distance, cut at ``threshold``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if size == 1:
        return np.zeros(1, dtype=int)
    if vectors is None:
        return np.arange(size)
    # This is what sklearn's AgglomerativeClustering(affinity="precomputed", linkage="average")
    # runs, without its n x n matrix and index arrays (several times the memory for 5000 texts).
    tree = linkage(_condensed_distances(vectors), method="average")
    return fcluster(tree, t=threshold, criterion="distance")


def _most_common(counts: Counter) -> List[Any]:
    return [value for value, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def group_similar(items: Sequence[Tuple[int, str, Optional[str]]], threshold: float = GROUP_DISTANCE) -> List[Group]:
    """Groups (id, text, guess) items whose texts mean about the same; largest groups first.

    Texts with the same normalised form are one point for the clustering (so a text asked a
    hundred times does not outweigh the rest) and always end up in the same group.
    """
    if not items:
        return []
    keys = [normalize(text) for _, text, _ in items]
    unique = sorted(set(keys))
    position = {key: i for i, key in enumerate(unique)}
    key_counts = Counter(keys)
    vectors = _vectors(unique)
    cluster_of_unique = _clusters(vectors, len(unique), threshold)

    members: Dict[int, List[int]] = {}
    for item_index, key in enumerate(keys):
        members.setdefault(int(cluster_of_unique[position[key]]), []).append(item_index)

    groups = []
    for item_indices in members.values():
        text_counts = Counter(items[i][1] for i in item_indices)
        guesses = Counter(items[i][2] for i in item_indices if items[i][2] is not None)
        centre_key = _closest_to_centre(vectors, sorted({keys[i] for i in item_indices}), position, key_counts)
        representative = _most_common(Counter(items[i][1] for i in item_indices if keys[i] == centre_key))[0]
        groups.append(
            Group(
                representative=representative,
                count=len(item_indices),
                member_ids=tuple(items[i][0] for i in item_indices),
                texts=tuple(_most_common(text_counts)[:MAX_TEXTS]),
                guess=_most_common(guesses)[0] if guesses else None,
            )
        )
    groups.sort(key=lambda group: (-group.count, group.representative, group.member_ids))
    return groups


def _closest_to_centre(
    vectors: Optional["csr_matrix"], group_keys: List[str], position: Dict[str, int], key_counts: Counter
) -> str:
    """The normalised text nearest the count-weighted centroid; ties go to the most common, then A-Z."""
    if len(group_keys) == 1 or vectors is None:
        return _most_common(Counter({key: key_counts[key] for key in group_keys}))[0]
    rows = vectors[[position[key] for key in group_keys]]
    weights = np.array([key_counts[key] for key in group_keys], dtype=np.float64)
    centre = np.asarray(rows.T @ weights).ravel()
    # Rounded, so that float noise cannot decide between equally central texts.
    scores = np.round(np.asarray(rows @ centre).ravel() / weights.sum(), 9)
    ranked = sorted(range(len(group_keys)), key=lambda i: (-scores[i], -key_counts[group_keys[i]], group_keys[i]))
    return group_keys[ranked[0]]
