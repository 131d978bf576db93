"""NLU regression on the held-out Finnish files (tests/nlu/*.yml), with the issue's targets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bench.nlu_eval import HELDOUT, HELDOUT_TYPOS, OUT_OF_SCOPE_PROBE, load_examples, predicted_label, score
from tests.conftest import ROOT

MODEL = ROOT / "models" / "lumo.tar.gz"


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


def run_file(agent, path: Path, out_of_scope: bool = False):
    examples = load_examples(path)

    async def parse_all():
        return [await agent.parse_message(text) for text, _ in examples]

    predictions = [predicted_label(p) for p in asyncio.run(parse_all())]
    return score(path.name, examples, predictions, out_of_scope)


def report(result) -> str:
    lines = [f"{result.name}: {result.accuracy:.1%} of {result.total}"]
    lines += [f"  {text!r}: expected {expected}, got {got}" for text, expected, got in result.errors]
    return "\n".join(lines)


def test_held_out_phrasings_reach_95_percent(agent):
    result = run_file(agent, HELDOUT)
    assert result.total >= 300
    assert result.accuracy >= 0.95, report(result)


def test_typo_and_no_umlaut_phrasings_reach_90_percent(agent):
    result = run_file(agent, HELDOUT_TYPOS)
    assert result.total >= 200
    assert result.accuracy >= 0.90, report(result)


def test_out_of_scope_messages_fall_back_or_are_out_of_scope(agent):
    result = run_file(agent, OUT_OF_SCOPE_PROBE, out_of_scope=True)
    assert result.total >= 60
    assert result.accuracy >= 0.80, report(result)


def test_fallback_button_questions_reach_their_topic(agent):
    """The example question each fallback button sends must be understood as that topic."""
    wrong = []
    for path in sorted((ROOT / "data" / "faq").glob("*.yml")):
        responses = yaml.safe_load(path.read_text(encoding="utf-8"))["responses"]
        for name, variants in responses.items():
            example = variants[0]["metadata"]["example"]
            got = predicted_label(asyncio.run(agent.parse_message(example)))
            if got != name[len("utter_"):]:
                wrong.append((example, name, got))
    assert wrong == []
