"""An English visitor in the real widget gets the English explanation, and the editor sees the miss
in the inbox marked "Muu kieli: englanti" (chromium, the live-agent service, Rasa, the action server)."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.integration.test_browser_loop import SCREENSHOTS, browser, send, serious  # noqa: F401 - fixture
from tests.integration.test_other_languages import variation
from tests.liveagent.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.integration

QUESTION = "how do I apply for housing benefit in English"


def test_english_visitor_answered_in_english_and_the_miss_reaches_the_editor(full_stack, browser):  # noqa: F811
    visitor = browser.new_context().new_page()
    visitor.goto(full_stack.url + "/")
    visitor.get_by_role("button", name="Avaa chat").click()
    send(visitor, QUESTION)
    explanation = variation("utter_other_language", "en")["text"]
    expect(visitor.get_by_text(explanation[:60])).to_be_visible(timeout=30_000)
    # A person is offered when one is online, else the English note and the contact form (whether an agent
    # of another test is still online depends on the order the shared stack's tests ran in).
    person = visitor.get_by_role("button", name="I want to talk to a person")
    nobody = visitor.get_by_text(variation("utter_human_unavailable", "en")["text"][:60])
    expect(person.or_(nobody)).to_be_visible()
    visitor.screenshot(path=str(SCREENSHOTS / "widget-english-visitor.png"))
    visitor.context.close()  # the conversation goes quiet: the sweep collects its misses

    page = browser.new_context().new_page()
    page.goto(f"{full_stack.url}/editor")
    page.locator("#username").fill("eeva")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#login-button").click()
    page.locator("#nav-missed").click()
    card = page.locator(".missed-group").filter(has_text=QUESTION)
    for _ in range(30):  # the harvest runs once the conversation has been quiet for a second
        if card.count():
            break
        page.locator("#missed-refresh").click()
        page.wait_for_timeout(1000)
    expect(card).to_be_visible()
    # how many English misses share the group depends on what other tests of the shared stack sent
    expect(card.locator(".tag")).to_have_text([re.compile(r"^Muu kieli: englanti \(\d+\)$")])
    page.screenshot(path=str(SCREENSHOTS / "editor-missed-english.png"), full_page=True)
    assert serious(Axe().run(page)) == []
