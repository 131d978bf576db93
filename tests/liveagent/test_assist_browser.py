"""Suggested answers and transcripts in a real browser (Debian's chromium through Playwright) against the
in-process service and the fake Rasa (issue 16, items 4, 5 and 7): an agent inserts the bot's suggested
answer, edits it and sends it, and the use shows in the insights; the agent downloads the transcript from the
console, the visitor from the widget (desktop and a 390 px phone), and both files are read back. axe-core
finds no serious or critical violation in the new views."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import pytest
from playwright.sync_api import Page, expect

from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import Agent, service, service_env  # noqa: F401 - fixtures
from tests.liveagent.fake_rasa import ANSWERS
from tests.liveagent.pages import DESKTOP, PHONE, console, content_editor, in_a_thread, no_serious_violations
from tests.liveagent.test_console_browser import as_agent, visitor_says, waiting_session
from tests.liveagent.test_widget_browser import send


class InFinland:
    """The browser, its new contexts in Finnish time (a supervisor's browser in Finland)."""

    def __init__(self, browser: Any) -> None:  # noqa: F811
        self.browser = browser

    def new_context(self, **options: Any) -> Any:
        return self.browser.new_context(timezone_id="Europe/Helsinki", **options)


def claim(service, conversation_id: str) -> None:  # noqa: F811
    async def work(agent: Agent) -> int:
        return (await agent.call("POST", f"/conversations/{conversation_id}/claim")).status

    assert in_a_thread(as_agent(service, "aino", work)) == 200


def insights_of(service) -> Dict[str, Any]:  # noqa: F811
    async def work(agent: Agent) -> Dict[str, Any]:
        return await (await agent.call("GET", "/insights")).json()

    return in_a_thread(as_agent(service, "ville", work))


def read(download: Any, tmp_path: Path) -> str:
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return target.read_text(encoding="utf-8")


def test_an_agent_inserts_edits_and_sends_a_suggested_answer(service, browser, tmp_path):  # noqa: F811
    aino = console(browser, service, "aino")
    token = in_a_thread(waiting_session(service))
    conversation_id = token.split(".")[0]
    claim(service, conversation_id)
    in_a_thread(visitor_says(service, token, "miten kirjaudun palveluun"))
    chat = aino.locator("#mine-list .mine-button").first
    expect(chat).to_be_visible()
    chat.click()
    panel = aino.get_by_role("region", name="Botin vastausehdotukset")
    expect(panel).to_be_visible()
    cards = panel.locator("li")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("Kirjautuminen")
    expect(cards.nth(0)).to_contain_text("(varmuus 95 %)")
    expect(cards.nth(0)).to_contain_text(ANSWERS["faq/login"])
    expect(cards.nth(1)).to_contain_text("Kirjautumisongelmat")
    no_serious_violations(aino)
    aino.screenshot(path=str(tmp_path / "suggestions.png"), full_page=True)

    # one click puts the answer into the reply box; nothing is sent
    cards.nth(0).get_by_role("button", name="Lisää ehdotus vastaukseen").click()
    reply = aino.get_by_label("Vastaus asiakkaalle")
    expect(reply).to_have_value(ANSWERS["faq/login"])
    expect(reply).to_be_focused()
    expect(aino.locator("#announcer")).to_contain_text("Ehdotus lisätty vastauskenttään: Kirjautuminen.")
    assert aino.locator("#conversation-log .msg--agent").count() == 0
    # edited, then sent
    reply.press("End")
    reply.type(" Terveisin Aino")
    reply.press("Enter")
    edited = ANSWERS["faq/login"] + " Terveisin Aino"
    expect(aino.locator("#conversation-log .msg--agent .msg-text")).to_have_text([edited])

    figures = insights_of(service)["suggestions_used"]
    assert figures == {"shown": 1, "used": 1, "edited": 1, "rate": 1.0}

    # a new visitor message: the panel follows it
    in_a_thread(visitor_says(service, token, "mitkä on aukioloajat"))
    expect(cards.nth(0)).to_contain_text("Aukioloajat", timeout=10_000)
    # a reply typed by hand is no suggestion's
    reply.fill("Palvelemme arkisin.")
    reply.press("Enter")
    expect(aino.locator("#conversation-log .msg--agent")).to_have_count(2)
    assert insights_of(service)["suggestions_used"] == {"shown": 2, "used": 1, "edited": 1, "rate": 0.5}
    # in Finland: the dashboard picks "today" by the browser's calendar, the service counts Helsinki days
    ville = console(InFinland(browser), service, "ville", online=False)
    ville.get_by_role("button", name="Tilastot").click()
    used = ville.locator(".insights-figure").filter(has_text="Käytetyt vastausehdotukset")
    expect(used.locator(".insights-value")).to_have_text("50 %")
    expect(used).to_contain_text("1 / 2 viestiä, joihin näytettiin ehdotus; 1 muokattuna")
    ville.context.close()

    # the transcript from the open chat: read back, without the panel's texts or notes
    with aino.expect_download() as info:
        aino.get_by_role("button", name="Lataa keskustelu tekstinä").click()
    text = read(info.value, tmp_path)
    assert info.value.suggested_filename.startswith("lumo-keskustelu-") and text.startswith("Lumo – keskustelu")
    assert "Asiakas:\nmiten kirjaudun palveluun" in text and f"Aino (asiakaspalvelija):\n{edited}" in text
    assert f"Keskustelun tunnus: {conversation_id}" in text

    # after closing, the chat stays open read-only: its HTML transcript still downloads
    aino.get_by_role("button", name="Sulje keskustelu").click()
    expect(aino.locator("#conversation-readonly")).to_be_visible()
    expect(panel).to_be_hidden()
    with aino.expect_download() as info:
        aino.get_by_role("button", name="Lataa keskustelu (HTML)").click()
    page = read(info.value, tmp_path)
    assert page.startswith("<!DOCTYPE html>") and "Palvelemme arkisin." in page

    # the content editor sees the topic the bot knew, though the visitor wanted a person
    editor = content_editor(browser, service)
    editor.get_by_role("button", name=re.compile("^Mitä botti ei ymmärtänyt")).click()
    section = editor.get_by_role("region", name="Botti tiesi vastauksen, mutta asiakas halusi ihmisen")
    card = section.locator("li")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Kirjautuminen")
    expect(card).to_contain_text("Lähetetty 1 keskustelussa, yhteensä 1 kertaa, muokattuna 1 kertaa.")
    no_serious_violations(editor)
    card.get_by_role("button", name="Avaa aihe Kirjautuminen").click()
    expect(editor.get_by_role("heading", name="Kirjautuminen", exact=True)).to_be_visible()
    editor.context.close()


@pytest.mark.parametrize("viewport", [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone-390")])
def test_the_visitor_downloads_the_conversation_from_the_widget(service, browser, tmp_path, viewport):  # noqa: F811
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, accept_downloads=True)
    page: Page = context.new_page()
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    send(page, '<b>moi</b> & "terve"')
    log = page.get_by_role("log")
    expect(log).to_contain_text('Botti: <b>moi</b> & "terve"')
    save = page.get_by_role("button", name="Tallenna keskustelu")
    expect(save).to_be_visible()
    box, width = save.bounding_box(), viewport["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width  # in view on the phone too
    no_serious_violations(page)
    page.screenshot(path=str(tmp_path / f"widget-{viewport['width']}.png"))
    with page.expect_download() as info:
        save.click()
    document = read(info.value, tmp_path)
    assert info.value.suggested_filename.endswith(".html")
    assert "Sinä" in document and "&lt;b&gt;moi&lt;/b&gt; &amp; &quot;terve&quot;" in document
    assert "<b>moi</b>" not in document  # the visitor's text is text in the file too
    assert '<span class="who">Botti</span>' in document
    expect(page.locator(".lumo-chat-status")).to_contain_text("Keskustelu tallennettiin tiedostoksi.")
    context.close()
