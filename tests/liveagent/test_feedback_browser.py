"""The widget's feedback in a real browser (issue 17, items 1 and 2): "Oliko vastauksesta apua?" under a bot
answer (Kyllä / Ei as toggle buttons, changeable, kept across a reload and replayed from the service), and
the end-of-chat rating of a chat only the bot served, with a comment (too long: a Finnish note, not sent).
At desktop width and at 390 px; axe-core finds no serious or critical violation. The figures are then
read back from the supervisors' insights, so what the browser did is what was stored."""

from __future__ import annotations

from typing import Any, Dict

import aiohttp
import pytest
from playwright.sync_api import expect

from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import Agent, service, service_env  # noqa: F401 - fixtures
from tests.liveagent.pages import in_a_thread, no_serious_violations
from tests.liveagent.test_widget_browser import send, stored, until

SIZES = [pytest.param({"width": 1280, "height": 800}, id="desktop"),
         pytest.param({"width": 390, "height": 844}, id="390x844")]


async def figures(service) -> Dict[str, Any]:  # noqa: F811
    """Today's insights as the supervisor ville reads them."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": service.url}) as session:
        ville = Agent(service, session)
        assert (await ville.login("ville")).status == 200
        response = await ville.call("GET", "/insights?format=json")
        assert response.status == 200
        return await response.json()


def open_chat(page) -> None:
    """The chat panel open (after a reload the widget may reopen it by itself, as it was left)."""
    until(page, "!!document.querySelector('.lumo-chat') && !document.querySelector('.lumo-chat').hidden")
    if not page.get_by_role("dialog", name="Lumo-chat").is_visible():
        page.get_by_role("button", name="Avaa chat").click()
    expect(page.get_by_role("dialog", name="Lumo-chat")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_feedback_under_an_answer_and_the_end_rating_of_a_bot_chat(service, browser, size):  # noqa: F811
    context = browser.new_context(viewport=size)
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    send(page, "miten kirjaudun palveluun")
    answer = page.locator(".lumo-chat-message--bot", has_text="Botti: miten kirjaudun palveluun")
    expect(answer).to_be_visible(timeout=10_000)
    group = answer.get_by_role("group", name="Oliko vastauksesta apua?")
    yes, no = group.get_by_role("button", name="Kyllä"), group.get_by_role("button", name="Ei")
    expect(yes).to_have_attribute("aria-pressed", "false")
    expect(no).to_have_attribute("aria-pressed", "false")
    # the greeting and system lines ask nothing
    expect(page.locator(".lumo-chat-greeting .lumo-chat-feedback")).to_have_count(0)
    no_serious_violations(page)

    yes.focus()
    page.keyboard.press("Enter")  # keyboard works: real buttons
    expect(yes).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".lumo-chat-panel [role=status][aria-live=polite]").last).to_have_text("Kiitos palautteesta!")
    thanks = answer.locator(".lumo-chat-feedback-thanks")
    expect(thanks).to_have_text("Kiitos palautteesta!")  # seen beside the buttons too
    expect(thanks).to_be_visible()
    no.click()  # changed: the latest choice counts
    expect(no).to_have_attribute("aria-pressed", "true")
    expect(yes).to_have_attribute("aria-pressed", "false")
    until(page, "document.activeElement && document.activeElement.textContent === 'Ei'")  # focus stays
    until(page, "JSON.parse(localStorage.getItem('lumo-chat')).messages.some(m => m.helpful === false)")

    # Reloaded: the choice is still shown; with the local copy gone, the service's replay shows it too.
    page.reload()
    open_chat(page)
    group = page.get_by_role("group", name="Oliko vastauksesta apua?")
    expect(group.get_by_role("button", name="Ei")).to_have_attribute("aria-pressed", "true")
    kept = stored(page)
    kept["messages"], kept["lastSeenId"] = [], 0
    page.evaluate("data => localStorage.setItem('lumo-chat', JSON.stringify(data))", kept)
    page.reload()
    open_chat(page)
    group = page.get_by_role("group", name="Oliko vastauksesta apua?")
    expect(group.get_by_role("button", name="Ei")).to_have_attribute("aria-pressed", "true", timeout=10_000)
    expect(group.get_by_role("button", name="Kyllä")).to_have_attribute("aria-pressed", "false")

    # The visitor ends the chat with the bot: the rating, then an optional comment.
    page.get_by_role("button", name="Lopeta keskustelu").click()
    rating = page.get_by_role("group", name="Miten onnistuimme? Arvioi keskustelu asteikolla 1–5")
    expect(rating).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Lopeta keskustelu")).to_be_hidden()
    no_serious_violations(page)
    rating.get_by_role("button", name="Arvio 4 / 5").click()
    comment = page.get_by_label("Kerro halutessasi lisää (vapaaehtoinen)")
    expect(comment).to_be_focused()
    comment.fill("liian pitkä " * 100)
    page.get_by_role("button", name="Lähetä kommentti").click()
    expect(page.get_by_role("alert").filter(has_text="Kommentti on liian pitkä")).to_be_visible()
    expect(comment).to_have_attribute("aria-invalid", "true")
    no_serious_violations(page)
    comment.fill("Vastaus löytyi nopeasti.")
    page.get_by_role("button", name="Lähetä kommentti").click()
    expect(comment).to_be_hidden()
    expect(page.get_by_role("button", name="Lopeta keskustelu")).to_be_hidden()  # ended

    def rated() -> Dict[str, Any]:
        return in_a_thread(figures(service))

    for _ in range(50):
        answer_figures = rated()
        if answer_figures["csat"]["bot"]["rated"] == 1:
            break
        page.wait_for_timeout(100)
    assert answer_figures["csat"]["bot"] == {"rated": 1, "satisfied": 1, "rate": 1.0, "average": 4.0}
    assert answer_figures["helpful_by_topic"]["rated"] == 1 and answer_figures["helpful_by_topic"]["helpful"] == 0
    # writing again reopens the chat with the bot, which can be ended again
    send(page, "entä aukioloajat")
    expect(page.locator(".lumo-chat-message--bot", has_text="Botti: entä aukioloajat")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Lopeta keskustelu")).to_be_visible()
    assert errors == []
    context.close()
