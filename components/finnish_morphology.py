"""Finnish word normalisation: spoken forms, missing ä/ö, dictionary lemmas, stems.

Visitors type everyday Finnish: "onks mun hakemus kasitelty". The dictionary (Voikko's
morphology: Debian's libvoikko1 and voikko-fi, through the ``voikko`` ctypes binding; the pure-Python
``pyvoikko`` took 60 times the CPU, docs/nlu.md) knows "käsitelty" but not "kasitelty", and
no spoken forms. This module maps a surface word to a single lemma key in four steps:

1. spoken form table (``resources/colloquial_fi.yml``): "onks" -> "onko";
2. Voikko analysis of the word, or, when that fails, of variants with ä/ö restored;
3. the clitic "-ks" read as "-ko/-kö" ("voiks" -> "voiko");
4. otherwise the Finnish Snowball stem.

A word the dictionary does not know may be two words typed together: a negation verb or a question
word glued to what follows ("enhaluu", "eitarvitse", "onkshakemus"). ``parts`` splits such a word
when the rest is a word the dictionary (or the spoken-form table) knows, and the tokenizer then
makes two tokens of it.

The key is returned with diacritics folded (ä -> a, ö -> o) so that "käsittely" and
"kasittely" meet. Results are cached: the same words recur in chat traffic.
"""

from __future__ import annotations

import functools
import itertools
import threading
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import Stemmer
import yaml

_RESOURCES = Path(__file__).parent / "resources"
_FOLD = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A"})
_RESTORE = {"a": "ä", "o": "ö"}
# At most 2**_MAX_RESTORE_POSITIONS variants are tried for one unknown word.
_MAX_RESTORE_POSITIONS = 6
# Words people glue to the next one in chat, longest first; split off only when the rest is known.
_GLUED_PREFIXES = ("eivät", "eivat", "emme", "ette", "onks", "onko", "en", "et", "ei")
_MIN_REST = 3


def fold_diacritics(text: str) -> str:
    """Fold the Finnish letters ä, ö and å to a, o and a (people often type them so)."""
    return text.translate(_FOLD)


@functools.lru_cache(maxsize=1)
def colloquial_table() -> Dict[str, str]:
    """Spoken-form table, keyed by both the form and its folded spelling."""
    with open(_RESOURCES / "colloquial_fi.yml", encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    table: Dict[str, str] = {}
    for spoken, standard in raw.items():
        table[str(spoken)] = str(standard)
        table.setdefault(fold_diacritics(str(spoken)), str(standard))
    return table


def _restored_variants(word: str) -> Iterable[str]:
    """Spellings of ``word`` with some a/o turned back into ä/ö, likeliest first.

    Vowel harmony means that a word missing its umlauts usually misses all of them, so
    the variant with every a/o restored is tried first, then those with fewer.
    """
    positions = [i for i, char in enumerate(word) if char in _RESTORE]
    positions = positions[:_MAX_RESTORE_POSITIONS]
    for size in range(len(positions), 0, -1):
        for chosen in itertools.combinations(positions, size):
            chars = list(word)
            for index in chosen:
                chars[index] = _RESTORE[chars[index]]
            yield "".join(chars)


class FinnishLemmatizer:
    """Maps one surface word to a lemma key (see the module docstring)."""

    def __init__(self, use_dictionary: bool = True, restore_diacritics: bool = True) -> None:
        self._use_dictionary = use_dictionary
        self._restore_diacritics = restore_diacritics
        self._stemmer = Stemmer.Stemmer("finnish")
        self._colloquial = colloquial_table()
        self._analyse = voikko_analyser() if use_dictionary else None
        self.lemma = functools.lru_cache(maxsize=100_000)(self._lemma)
        self.parts = functools.lru_cache(maxsize=100_000)(self._parts)
        self.knows = functools.lru_cache(maxsize=100_000)(self._knows)

    def _baseform(self, word: str) -> Optional[str]:
        if self._analyse is None:
            return None
        baseforms = self._analyse(word)
        if not baseforms:
            return None
        # Several readings ("kirjautumaan": kirjautuma, kirjautua): the shortest is
        # usually the verb or the plain noun, which is what the other phrasings share.
        return min(baseforms, key=lambda form: (len(form), form))

    def _dictionary_lemma(self, word: str) -> Optional[str]:
        found = self._baseform(word)
        if found is not None:
            return found
        if self._restore_diacritics and not any(char in "äö" for char in word):
            for variant in _restored_variants(word):
                found = self._baseform(variant)
                if found is not None:
                    return found
        return None

    def _known_lemma(self, lowered: str) -> Optional[str]:
        """Steps 1-3: the word's lemma when the table or the dictionary knows it, else None."""
        candidate = self._colloquial.get(lowered, lowered)
        found = self._dictionary_lemma(candidate)
        if found is None and candidate.endswith("ks") and len(candidate) > 3:
            # Spoken question clitic: "voiks" -> "voiko", "pääsenks" -> "pääsenkö".
            for clitic in ("ko", "kö"):
                found = self._dictionary_lemma(candidate[:-2] + clitic)
                if found is not None:
                    break
        if found is None and lowered in self._colloquial:
            found = candidate
        return found

    def _knows(self, word: str) -> bool:
        """Whether ``word`` is Finnish the spoken-form table or the dictionary knows (ä/ö restored,
        "-ks" read as "-ko"); the Snowball fallback does not count. Language identification asks it."""
        lowered = word.lower()
        return lowered.isalpha() and self._known_lemma(lowered) is not None

    def _lemma(self, word: str) -> str:
        lowered = word.lower()
        if not lowered.isalpha():
            return fold_diacritics(lowered)
        found = self._known_lemma(lowered)
        if found is None:
            found = self._stemmer.stemWord(fold_diacritics(self._colloquial.get(lowered, lowered)))
        return fold_diacritics(found.lower())

    def _parts(self, word: str) -> List[str]:
        """``word`` split into a glued negation or question word and the rest, or ``[word]``."""
        lowered = word.lower()
        if self._analyse is None or not lowered.isalpha() or self._known_lemma(lowered) is not None:
            return [word]
        folded = fold_diacritics(lowered)
        for prefix in _GLUED_PREFIXES:
            rest = lowered[len(prefix):]
            if folded.startswith(fold_diacritics(prefix)) and len(rest) >= _MIN_REST:
                if self._known_lemma(rest) is not None:
                    return [word[: len(prefix)], word[len(prefix):]]
        return [word]

    def lemmas(self, words: Iterable[str]) -> List[str]:
        """Lemma keys for several words, in order."""
        return [self.lemma(word) for word in words]


@functools.lru_cache(maxsize=1)
def voikko_analyser() -> Callable[[str], List[str]]:
    """Base forms of a word from Debian's libvoikko (C) and its voikko-fi dictionary, loaded once per process
    (the tokenizer's lemmas, the editors' spell check in content/checks.py).

    Through the ``voikko`` ctypes binding. A libvoikko handle must not be used by two threads at once (Rasa's
    server parses batches in a worker thread), hence the lock; one analysis takes tens of microseconds.
    """
    from voikko import libvoikko

    try:
        handle = libvoikko.Voikko("fi")
    except (OSError, libvoikko.VoikkoException) as error:
        raise RuntimeError(
            "Voikko's Finnish dictionary is not available: install Debian's libvoikko1 and voikko-fi "
            f"(`make install` does) ({error})"
        ) from error
    lock = threading.Lock()

    def analyse(word: str) -> List[str]:
        with lock:
            analyses = handle.analyze(word)
        return [analysis["BASEFORM"] for analysis in analyses if analysis.get("BASEFORM")]

    return analyse
