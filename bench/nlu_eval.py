"""Scoring of a trained model on the held-out Finnish test files (shared by bench and tests).

Labels: an FAQ message is scored by its response-selector key ("faq/login"), every other message
by its intent; a ``several_topics`` reading that answers exactly one topic (with an acknowledgement
beside it) by that topic. A message the model sends to ``nlu_fallback`` counts as wrong for in-scope files;
for the out-of-scope probe, ``out_of_scope`` and ``nlu_fallback`` both count as right.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from lumo_shared.tracker_events import TOPICS_KEY

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
HELDOUT_TYPOS = ROOT / "tests" / "nlu" / "heldout_typos.yml"
OUT_OF_SCOPE_PROBE = ROOT / "tests" / "nlu" / "out_of_scope_probe.yml"
# other_language: a message in Swedish or English gets the explanation in that language (issue 15), not an
# in-scope answer.
SAFE_FOR_OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback", "other_language"}
# The intent of a message that asks several things (config.yml, components/segments.py).
SEVERAL_TOPICS_INTENT = "several_topics"


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, expected label) pairs of a Rasa NLU YAML test file."""
    from rasa.shared.nlu.training_data.loading import load_data  # Rasa is imported only when used

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        label = message.get("intent_response_key") or message.get("intent")
        examples.append((message.get("text"), label))
    return examples


def predicted_label(parse: Dict[str, Any]) -> str:
    name = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    answered = _one_answered_topic(parse)
    if answered:
        return answered
    if name == "faq":
        # Rasa's default pipeline trains one ResponseSelector under the key "default".
        selectors = parse.get("response_selector") or {}
        selector = selectors.get("faq") or selectors.get("default") or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        if key:
            return key
    return name


def _one_answered_topic(parse: Dict[str, Any]) -> Optional[str]:
    """The topic of a ``several_topics`` reading that answers exactly one (components/segments.py: a
    feeling acknowledged beside it): the visitor gets that topic's answer, so it is scored as that
    topic. Readings that answer several topics or ask which one first stay ``several_topics``."""
    if (parse.get("intent") or {}).get("name") != SEVERAL_TOPICS_INTENT:
        return None
    found = parse.get(TOPICS_KEY) or {}
    topics = found.get("topics") or []
    if found.get("mode") == "answer" and len(topics) == 1:
        return str(topics[0].get("label") or "") or None
    return None


@dataclass
class Score:
    name: str
    total: int
    accuracy: float
    macro_f1: float
    errors: List[Tuple[str, str, str]] = field(default_factory=list)


def score(name: str, examples: List[Tuple[str, str]], predictions: List[str], out_of_scope: bool = False) -> Score:
    if out_of_scope:
        right = [pred in SAFE_FOR_OUT_OF_SCOPE for pred in predictions]
        expected = ["out_of_scope"] * len(examples)
        predicted = ["out_of_scope" if ok else pred for ok, pred in zip(right, predictions, strict=True)]
    else:
        expected = [label for _text, label in examples]
        predicted = predictions
        right = [e == p for e, p in zip(expected, predicted, strict=True)]
    from sklearn.metrics import f1_score

    labels = sorted(set(expected))
    macro = float(f1_score(expected, predicted, labels=labels, average="macro", zero_division=0))
    errors = [(text, exp, pred) for (text, exp), pred, ok in zip(examples, predictions, right, strict=True) if not ok]
    return Score(name, len(examples), sum(right) / max(1, len(right)), macro, errors)


async def parse_all(agent: Any, texts: List[str]) -> List[Dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]


def evaluate_model(model_path: Path) -> Dict[str, Score]:
    """Loads ``model_path`` and scores it on the three held-out files."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    results: Dict[str, Score] = {}
    for name, path, oos in (
        ("held-out phrasings", HELDOUT, False),
        ("typos / no ä-ö", HELDOUT_TYPOS, False),
        ("out-of-scope probe", OUT_OF_SCOPE_PROBE, True),
    ):
        examples = load_examples(path)
        parses = asyncio.run(parse_all(agent, [text for text, _ in examples]))
        results[name] = score(name, examples, [predicted_label(p) for p in parses], oos)
    return results
