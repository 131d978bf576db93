"""Batched NLU gives the same answers as Rasa's one-message-at-a-time path, with the real model.

The shipped model's classifier (components/linear_classifier.py) predicts a whole list of messages
in one call; these tests check that concurrent parses reach it as one list and come back as they
would one by one."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from bench.nlu_eval import HELDOUT, load_examples
from components.linear_classifier import LinearClassifier
from rasa_runtime.batching import ParseBatcher
from tests.conftest import ROOT

MODEL = ROOT / "models" / "lumo.tar.gz"


@pytest.fixture(scope="module")
def processor():
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    return Agent.load(str(MODEL)).processor


def summary(parse_data: dict) -> tuple:
    selector = parse_data.get("response_selector", {}).get("faq", {}).get("response", {})
    return (parse_data["intent"]["name"], parse_data["intent"]["confidence"],
            selector.get("intent_response_key"), selector.get("confidence"))


def selector_ranking(parse_data: dict) -> list:
    ranking = parse_data.get("response_selector", {}).get("faq", {}).get("ranking", [])
    return [entry.get("intent_response_key") for entry in ranking]


async def test_a_batch_parses_like_single_messages(processor, monkeypatch):
    texts = [text for text, _label in load_examples(HELDOUT)][:50]
    classified_together = []
    real = LinearClassifier.score_messages

    def counting(self, messages):
        classified_together.append(len(messages))
        return real(self, messages)  # the graph binds `process`; it scores the whole list at once

    single = [processor._parse_message_with_graph(UserMessage(text, sender_id=f"s{i}"),
                                                  tracker=None, only_output_properties=True)
              for i, text in enumerate(texts)]
    batcher = ParseBatcher(processor)
    monkeypatch.setattr(LinearClassifier, "score_messages", counting)
    batched = await asyncio.gather(*(batcher.parse(UserMessage(text, sender_id=f"b{i}"))
                                     for i, text in enumerate(texts)))
    assert max(batcher.batch_sizes) > 1, "concurrent parses were not batched"
    assert max(classified_together) > 1, "the classifier predicted one message at a time"
    assert sum(classified_together) == len(texts)
    for text, one, many in zip(texts, single, batched, strict=True):
        assert many["text"] == text
        a, b = summary(one), summary(many)
        assert (a[0], a[2]) == (b[0], b[2]), text
        assert a[1] == pytest.approx(b[1], abs=1e-6) and a[3] == pytest.approx(b[3], abs=1e-6), text
        assert [r["name"] for r in one["intent_ranking"]] == [r["name"] for r in many["intent_ranking"]]
        assert selector_ranking(one) == selector_ranking(many), text


async def test_a_lone_message_is_parsed_at_once(processor):
    batcher = ParseBatcher(processor)
    parse_data = await batcher.parse(UserMessage("milloin olette auki", sender_id="lone"))
    assert batcher.batch_sizes == [1]
    assert parse_data["intent"]["name"]


async def test_a_failing_batch_fails_its_messages_and_the_next_batch_runs(processor, monkeypatch):
    batcher = ParseBatcher(processor)
    real_run = batcher._run
    calls = []

    def run(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("graph failed")
        return real_run(batch)

    monkeypatch.setattr(batcher, "_run", run)
    with pytest.raises(RuntimeError, match="graph failed"):
        await batcher.parse(UserMessage("moi", sender_id="x"))
    parse_data = await batcher.parse(UserMessage("moi", sender_id="y"))
    assert parse_data["intent"]["name"] == "greet"

