"""Project checks of the content editors write, reported in Finnish with file and line (texts in
content/copy_fi.yml under checks).

`rasa data validate` checks Rasa's own rules; these checks are about what makes a topic work for
visitors: every topic has an answer and enough examples, no example belongs to two intents, links
are well-formed https links, answers fit the widget, and answers are spelled correctly (Voikko,
warnings only).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from content import copy

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 30
MAX_ANSWER_CHARS = 700
URL = re.compile(r"https?://[^\s)\]]+")
NOT_WORDS = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+|\{[^}]*\}")
WORD = re.compile(r"[A-Za-zÅÄÖåäö]+(?:-[A-Za-zÅÄÖåäö]+)*")


@dataclass(frozen=True)
class Finding:
    severity: str  # "virhe" (blocks publishing) or "varoitus"
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass
class _Intent:
    name: str
    path: str
    line: int
    examples: List[Tuple[str, int]]


@dataclass
class _Answer:
    name: str
    path: str
    line: int
    texts: List[Tuple[str, int]]
    # Lines of variations written in another language (a condition on the slot `language` other than
    # "fi", domain.yml): the Finnish spell check skips them.
    other_language_lines: Tuple[int, ...] = ()


def variation_language(variant) -> Optional[str]:
    """The language a response variation is written in: its condition on the slot `language`, or its
    ``metadata.language`` (a default variation in another language); None: Finnish."""
    for condition in variant.get("condition") or []:
        if isinstance(condition, dict) and condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition.get("value"))
    metadata = variant.get("metadata")
    if isinstance(metadata, dict) and metadata.get("language"):
        return str(metadata["language"])
    return None


def _load(path: Path):
    return _parse(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=128)
def _parse(text: str):
    """A file's YAML with line numbers (round-trip), parsed once per distinct text: the editors' pages run
    the checks on every visit and the content rarely changes in between. Callers only read the result."""
    return YAML(typ="rt").load(text)


def _examples(block, start_line: int) -> List[Tuple[str, int]]:
    text = block.get("examples") or ""
    found = []
    base = block.lc.value("examples")[0] + 2 if hasattr(block, "lc") else start_line
    for offset, raw in enumerate(str(text).splitlines()):
        stripped = raw.strip()
        if stripped.startswith("- "):
            found.append((stripped[2:].strip(), base + offset))
    return found


def collect(root: Path) -> Tuple[List[_Intent], List[_Answer], List[Finding]]:
    intents: List[_Intent] = []
    answers: List[_Answer] = []
    broken: List[Finding] = []
    files = sorted((root / "data").rglob("*.yml")) + [root / "domain.yml"]
    for path in files:
        relative = str(path.relative_to(root))
        try:
            document = _load(path) or {}
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            line = mark.line + 1 if mark is not None else 1
            broken.append(Finding("virhe", relative, line, copy.text("checks.file_broken")))
            continue
        for block in document.get("nlu") or []:
            if "intent" in block:
                line = block.lc.line + 1
                intents.append(_Intent(str(block["intent"]), relative, line, _examples(block, line)))
        responses = document.get("responses") or {}
        for name, variants in responses.items():
            line = responses.lc.key(name)[0] + 1
            texts = []
            other_language = []
            for variant in variants or []:
                if isinstance(variant, dict) and variant.get("text"):
                    texts.append((str(variant["text"]), variant.lc.line + 1))
                    if variation_language(variant) not in (None, "fi"):
                        other_language.append(variant.lc.line + 1)
            answers.append(_Answer(str(name), relative, line, texts, tuple(other_language)))
    return intents, answers, broken


def check_topics(intents: List[_Intent], answers: List[_Answer]) -> Iterable[Finding]:
    answer_names = {a.name for a in answers}
    topics = {i.name for i in intents if "/" in i.name}
    for intent in intents:
        if "/" in intent.name and f"utter_{intent.name}" not in answer_names:
            yield Finding("virhe", intent.path, intent.line,
                          copy.text("checks.topic_without_answer", intent=intent.name))
        if len(intent.examples) < MIN_EXAMPLES:
            yield Finding("virhe", intent.path, intent.line,
                          copy.text("checks.too_few_examples", intent=intent.name, count=len(intent.examples),
                                    minimum=MIN_EXAMPLES))
        elif len(intent.examples) < RECOMMENDED_EXAMPLES:
            yield Finding("varoitus", intent.path, intent.line,
                          copy.text("checks.few_examples", intent=intent.name, count=len(intent.examples),
                                    recommended=RECOMMENDED_EXAMPLES))
    for answer in answers:
        if answer.name.startswith("utter_faq/") and answer.name[len("utter_"):] not in topics:
            yield Finding("virhe", answer.path, answer.line,
                          copy.text("checks.answer_without_topic", answer=answer.name,
                                    intent=answer.name[len("utter_"):]))


def check_duplicates(intents: List[_Intent]) -> Iterable[Finding]:
    seen: Dict[str, Tuple[str, str, int]] = {}
    for intent in intents:
        for text, line in intent.examples:
            key = " ".join(text.lower().split())
            if key in seen and seen[key][0] != intent.name:
                other, other_path, other_line = seen[key]
                yield Finding("virhe", intent.path, line,
                              copy.text("checks.duplicate_example", example=text, other=other, path=other_path,
                                        line=other_line))
            seen.setdefault(key, (intent.name, intent.path, line))


def check_answers(answers: List[_Answer], speller: Optional["Speller"] = None) -> Iterable[Finding]:
    for answer in answers:
        for text, line in answer.texts:
            if len(text) > MAX_ANSWER_CHARS:
                yield Finding("virhe", answer.path, line,
                              copy.text("checks.answer_too_long", answer=answer.name, length=len(text),
                                        limit=MAX_ANSWER_CHARS))
            for url in URL.findall(text):
                url = url.rstrip(".,;:!?")
                parsed = urlparse(url)
                if parsed.scheme != "https" or not parsed.netloc or "." not in parsed.netloc:
                    yield Finding("virhe", answer.path, line,
                                  copy.text("checks.bad_link", url=url, answer=answer.name))
            if speller is not None and line not in answer.other_language_lines:
                for word in speller.unknown_words(NOT_WORDS.sub(" ", text)):
                    yield Finding("varoitus", answer.path, line,
                                  copy.text("checks.misspelled", word=word, answer=answer.name))


class Speller:
    """Finnish spell check: a word is known when Voikko's dictionary analyses it (Debian's libvoikko1 and
    voikko-fi in C, the handle the tokenizer uses; the pure-Python pyvoikko gave the same answers for every
    word of data/ and tests/nlu/ at 70 times the CPU, about a second per check of the project)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        from components.finnish_morphology import voikko_analyser

        self._analyse = voikko_analyser()
        self._allowed = {word.lower() for word in allowed}

    def known(self, word: str) -> bool:
        if word.lower() in self._allowed or len(word) < 2:
            return True
        parts = [part for part in word.split("-") if part]
        return all(
            part.lower() in self._allowed or self._analyse(part) or self._analyse(part.lower()) for part in parts
        )

    def unknown_words(self, text: str) -> List[str]:
        return [w for w in dict.fromkeys(WORD.findall(text)) if not self.known(w)]


# Names and terms of the (fictional) organisation that no dictionary knows.
ALLOWED_WORDS = ("Lumo", "Lumon", "Lumoon", "Lumolle", "Lumosta", "Suomi", "fi", "PL", "Mt", "PDF", "JPG", "PNG",
                 "IBAN", "WCAG", "AA", "ma", "pe", "klo", "esim", "chat", "chatti", "chatissa", "botti")


def check_project(root: Path, spelling: bool = True) -> List[Finding]:
    intents, answers, broken = collect(root)
    speller = Speller(ALLOWED_WORDS) if spelling else None
    findings = [*broken, *check_topics(intents, answers), *check_duplicates(intents), *check_answers(answers, speller)]
    return sorted(findings, key=lambda f: (f.severity != "virhe", f.path, f.line))
