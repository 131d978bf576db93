"""The editors see the visitors' feedback (issue 17, item 6) in a real browser: the topic list shows each
topic's answers and helpful-rate of the last 30 days, and the missed inbox sorts by how often a miss
happens or by newest. axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import content_copy
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import Visitor, service  # noqa: F401 - fixtures
from tests.liveagent.pages import content_editor, in_a_thread, no_serious_violations


@pytest.fixture
def service_env(tmp_path):
    return {"LIVEAGENT_CONTENT_ROOT": str(content_copy(tmp_path / "project", model=b"model-in-use")),
            "LIVEAGENT_HARVEST_IDLE_SECONDS": "0.3", "LIVEAGENT_SWEEP_SECONDS": "0.3"}


async def visitors(service) -> None:  # noqa: F811
    """Two answers on logging in (one helpful, one not), then misses: two alike, and the latest alone."""
    for text, helpful in (("miten kirjaudun", True), ("en pääse kirjautumaan", False),
                          ("voiko toimiston eteen pysäköidä", None), ("voiko toimiston edessä pysakoida", None),
                          ("😡😡", None)):
        visitor = Visitor(service)
        await visitor.connect()
        await visitor.say(text)
        answer = await visitor.wait_for("bot_uttered", lambda d, text=text: d["text"] == f"Botti: {text}")
        if helpful is not None:
            await visitor.client.emit("answer_feedback", {"message_id": answer["id"], "helpful": helpful})
            await visitor.wait_for("feedback_saved")
        await visitor.close()


def test_topic_use_and_the_missed_inbox_sorted(service, browser):  # noqa: F811
    in_a_thread(visitors(service))
    page = content_editor(browser, service)

    login = page.locator(".topic-button", has_text="Kirjautuminen").first
    expect(login).to_contain_text("2 vastausta 30 päivässä · hyödyllinen 50 % (1/2)")
    expect(page.locator(".topic-button", has_text="Aukioloajat").first).to_contain_text(
        "0 vastausta 30 päivässä · ei palautetta")
    no_serious_violations(page)

    page.get_by_role("button", name=re.compile("^Mitä botti ei ymmärtänyt")).click()
    cards = page.locator("#missed-list > li")
    for _ in range(50):  # the harvest reads the quiet chats within a second
        if cards.count() == 2:
            break
        page.get_by_role("button", name="Päivitä", exact=True).click()
        page.wait_for_timeout(200)
    expect(cards).to_have_count(2)
    order = page.get_by_label("Järjestys")
    expect(order).to_have_value("frequent")
    expect(cards.first).to_contain_text("toimiston")  # missed twice
    expect(cards.first).to_contain_text("2 kertaa")
    order.select_option(label="Uusimmat ensin")
    expect(cards.first).to_contain_text("😡😡")  # the latest
    expect(cards.nth(1)).to_contain_text("toimiston")
    order.select_option(label="Yleisimmät ensin")
    expect(cards.first).to_contain_text("toimiston")
    no_serious_violations(page)
    page.context.close()
