"""Which language a chat message is in: Finnish, Swedish or English, or "not sure" (then Finnish).

The statistics come from lingua-language-detector (pinned in requirements.in; its n-gram models are
inside the wheel, nothing is downloaded). How the library and every setting below were chosen, on
short chat messages (tests/nlu/languages.yml) and on the Finnish held-out files: bench/language_id.py,
docs/nlu.md "Other languages".

A message is identified as one of ``identified`` (Swedish, English) only when all of these hold:

1. lingua's best language among ``languages`` is that language. Besides Finnish, Swedish and English the
   detector also weighs languages nobody is answered in (``languages``: German, Spanish, Estonian):
   keyboard mash and other languages go to them instead of being forced into Swedish or English;
2. Finnish got at most ``finnish_max`` of lingua's confidence;
3. fewer than ``finnish_words_max`` of the message's words are Finnish words the project's Finnish
   dictionary knows (Voikko with ä/ö restored and the spoken-form table, components/finnish_morphology.py):
   "kylla se kay" is Finnish typed without ä, whatever its letter statistics say;
4. it has at least ``min_letters`` letters, and a message of one word ("tack", "hello") needs at least
   ``one_word_min`` of lingua's confidence: single words are where keyboard mash ("asdfgh") and
   abbreviations ("wcag") look like English;
5. it is not only "words" of one or two letters repeated ("kkkk", "hahaha", "ghghgh"): no language.

A message whose Finnish confidence reaches ``finnish_min`` is identified as Finnish (the Finnish words
of rule 3 only keep a message from being taken for Swedish or English: "ok" is a word Voikko knows).
Anything else is ``None``: not sure (one word such as "ok", a name, an emoji). The bot treats a message it is not sure
of as Finnish; only a sure identification changes the language it answers in.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

FINNISH = "fi"
# Words for the Finnish-word share: runs of letters, two or more.
_WORD = re.compile(r"[^\W\d_]{2,}")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class LanguageSettings:
    """The identification rule (module docstring); defaults are what config.yml uses."""

    # ISO 639-1 codes lingua compares; the first must be Finnish.
    languages: Tuple[str, ...] = ("fi", "sv", "en", "de", "es", "et")
    # Languages a message can be identified as besides Finnish (the slot `language` takes them).
    identified: Tuple[str, ...] = ("sv", "en")
    finnish_max: float = 0.3
    finnish_words_max: float = 0.75
    finnish_min: float = 0.5
    min_letters: int = 2
    one_word_min: float = 0.7
    # lingua's low-accuracy mode (trigrams only): a tenth of the memory, less accurate on short texts.
    low_accuracy: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> "LanguageSettings":
        known = {name for name in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        values = {key: value for key, value in config.items() if key in known}
        for key in ("languages", "identified"):
            if key in values:
                values[key] = tuple(str(code) for code in values[key])  # type: ignore[union-attr]
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.languages or self.languages[0] != FINNISH:
            raise ValueError("language identification: 'languages' must start with 'fi'")
        if not set(self.identified) <= set(self.languages) - {FINNISH}:
            raise ValueError("language identification: every 'identified' language must be in 'languages' (not 'fi')")
        if not 0.0 <= self.finnish_max <= 1.0 or not 0.0 <= self.finnish_min <= 1.0:
            raise ValueError("language identification: 'finnish_max' and 'finnish_min' are between 0 and 1")


@dataclass(frozen=True)
class Identification:
    """What was decided about one message, and from what (for diagnostics and the editors' inbox)."""

    language: Optional[str]  # "fi", one of ``identified``, or None: not sure (treated as Finnish)
    confidence: float  # lingua's confidence in ``language`` (in Finnish when not sure)
    finnish_words: Optional[float]  # share of words the Finnish dictionary knows (None: no words)
    scores: Dict[str, float] = field(default_factory=dict, compare=False)

    def to_json(self) -> Dict[str, object]:
        return {"name": self.language, "confidence": round(self.confidence, 4)}


Scorer = Callable[[str], Dict[str, float]]


def letters(text: str) -> int:
    return len(_LETTER.findall(text))


def finnish_word_share(text: str, knows: Callable[[str], bool]) -> Optional[float]:
    """Share of the text's words (two letters or more) that ``knows`` says are Finnish; None without words."""
    words = _WORD.findall(text)
    if not words:
        return None
    return sum(1 for word in words if knows(word)) / len(words)


def babble(text: str) -> bool:
    """Whether every word is one or two letters repeated ("kkkk", "hahaha", "ghghgh jkjk")."""
    words = _WORD.findall(text.lower())
    return bool(words) and all(len(word) >= 3 and len(set(word)) <= 2 for word in words)


def decide(scores: Mapping[str, float], text: str, finnish_words: Optional[float],
           settings: LanguageSettings) -> Tuple[Optional[str], float]:
    """The rule of the module docstring on one message's scores: (language or None, its confidence)."""
    finnish = float(scores.get(FINNISH, 0.0))
    if scores:
        best = max(scores, key=lambda code: (scores[code], code))
        one_word = len(text.split()) == 1
        if (best in settings.identified and finnish <= settings.finnish_max
                and (finnish_words is None or finnish_words < settings.finnish_words_max)
                and letters(text) >= settings.min_letters
                and (not one_word or scores[best] >= settings.one_word_min)
                and not babble(text)):
            return best, float(scores[best])
    if finnish >= settings.finnish_min:
        return FINNISH, finnish
    return None, finnish


def only_emoji(text: str) -> bool:
    """Whether a message is nothing but emoji and other pictographs (no letters, no digits)."""
    stripped = "".join(text.split())
    if not stripped or _LETTER.search(stripped) or any(char.isdigit() for char in stripped):
        return False
    symbols = [char for char in stripped if unicodedata.category(char) == "So"]
    # Emoji sequences also hold joiners, variation selectors and skin tones (categories Cf, Mn, Sk).
    return bool(symbols) and all(unicodedata.category(char) in ("So", "Sk", "Cf", "Mn", "Po") for char in stripped)


@functools.lru_cache(maxsize=4)
def lingua_scorer(languages: Tuple[str, ...], low_accuracy: bool = False) -> Scorer:
    """lingua's confidence per language (ISO 639-1 code) for a text; models loaded once per process."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    wanted = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    builder = LanguageDetectorBuilder.from_languages(*wanted)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def score(text: str) -> Dict[str, float]:
        return {value.language.iso_code_639_1.name.lower(): float(value.value)
                for value in detector.compute_language_confidence_values(text)}

    return score


class LanguageIdentifier:
    """The module's rule with lingua's scores and the Finnish dictionary, for one set of settings."""

    def __init__(self, settings: Optional[LanguageSettings] = None, scorer: Optional[Scorer] = None,
                 knows: Optional[Callable[[str], bool]] = None) -> None:
        self.settings = settings or LanguageSettings()
        self.settings.validate()
        self._scorer = scorer or lingua_scorer(self.settings.languages, self.settings.low_accuracy)
        if knows is None:
            from components.finnish_morphology import FinnishLemmatizer

            knows = FinnishLemmatizer().knows
        self._knows = knows

    def identify(self, text: str) -> Identification:
        text = " ".join(str(text or "").split())
        if not _LETTER.search(text):
            return Identification(None, 0.0, None, {})
        scores = self._scorer(text)
        share = finnish_word_share(text, self._knows)
        language, confidence = decide(scores, text, share, self.settings)
        return Identification(language, confidence, share, scores)

    def identify_all(self, texts: Sequence[str]) -> list:
        return [self.identify(text) for text in texts]
