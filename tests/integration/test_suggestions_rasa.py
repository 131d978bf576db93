"""Suggested answers against the real Rasa server (issue 16, item 4): the service's client reads the trained
model's FAQ ranking (POST /model/parse) and its answers (GET /domain) through the JWT in the header, and
liveagent/suggestions.py turns them into what the console shows."""

from __future__ import annotations

import asyncio

import pytest

from content.repository import ContentRepository
from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.suggestions import answer_texts, ranked_topics
from tests.conftest import ROOT
from tests.integration.conftest import RASA_JWT_SECRET

pytestmark = pytest.mark.integration


async def read(stack, *texts: str):
    client = RasaClient(stack.rasa_url, RASA_JWT_SECRET, timeout_seconds=30)
    await client.open()
    try:
        return [await client.parse(text) for text in texts], await client.domain()
    finally:
        await client.close()


def test_the_real_model_ranks_faq_topics_and_its_domain_has_their_answers(stack):
    parsed, domain = asyncio.run(read(stack, "miten mä kirjaudun asiointipalveluun", "milloin rahat tulee tilille",
                                      "hyvää huomenta"))
    login, payment, greeting = (ranked_topics(p) for p in parsed)
    assert login and login[0].topic == "faq/login" and login[0].confidence >= 0.5
    assert payment and payment[0].topic == "faq/payment_dates"
    assert all(r.confidence >= 0.1 for r in login + payment) and len(login) <= 3
    assert [r.topic for r in greeting if r.confidence >= 0.5] == []  # a greeting is no FAQ question
    answers = answer_texts(domain)
    topics = {f"faq/{topic.name}": topic.answer for topic in ContentRepository(ROOT).topics()}
    assert answers == topics  # every topic, with the Finnish answer the content files give it


def test_the_domain_and_parse_need_the_services_token(stack):
    async def without_token() -> None:
        client = RasaClient(stack.rasa_url, "", timeout_seconds=10)
        await client.open()
        try:
            with pytest.raises(RasaUnavailable) as refused:
                await client.domain()
            assert refused.value.status == 401
            with pytest.raises(RasaUnavailable):
                await client.parse("moi")
        finally:
            await client.close()

    asyncio.run(without_token())
