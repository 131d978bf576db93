"""The whole loop in a real browser: Debian's chromium driven by Playwright, real Rasa behind.

Visitor and agent use two browser contexts. Screenshots go to docs/screenshots/ (README).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from tests.conftest import ROOT
from tests.liveagent.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.integration
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def faq_answer(topic: str) -> str:
    with open(ROOT / "data" / "faq" / f"{topic}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"][f"utter_faq/{topic}"][0]["text"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serious(results) -> list:
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def watch_dialogs(page, seen: list) -> None:
    """Confirmations are the console's own; any other dialog means injected script ran."""

    def handle(dialog) -> None:
        if dialog.type == "confirm":
            dialog.accept()
        else:
            seen.append(dialog.message)
            dialog.dismiss()

    page.on("dialog", handle)


def send(page, text: str) -> None:
    box = page.get_by_label("Kirjoita viesti")
    box.fill(text)
    box.press("Enter")


def test_visitor_agent_whole_loop(full_stack, browser):
    dialogs = []
    agent_context = browser.new_context(viewport={"width": 1280, "height": 860})
    agent = agent_context.new_page()
    watch_dialogs(agent, dialogs)
    agent.goto(f"{full_stack.url}/agent")
    agent.get_by_label("Käyttäjätunnus").fill("aino")
    agent.get_by_label("Salasana").fill(DEMO_PASSWORD)
    agent.get_by_role("button", name="Kirjaudu", exact=True).click()
    agent.locator("#presence").select_option("online")
    expect(agent.locator("#me-name")).to_contain_text("Aino")

    visitor_context = browser.new_context(viewport={"width": 1280, "height": 860})
    visitor = visitor_context.new_page()
    watch_dialogs(visitor, dialogs)
    visitor.goto(full_stack.url + "/")
    visitor.get_by_role("button", name="Avaa chat").click()
    log = visitor.get_by_role("log")

    # FAQ answered by the real bot.
    send(visitor, "miten mä kirjaudun asiointipalveluun")
    expect(log).to_contain_text(faq_answer("login")[:60], timeout=20_000)

    # Escalation: the visitor sees the queue position.
    send(visitor, "haluan puhua ihmisen kanssa")
    expect(visitor.locator(".lumo-chat-status")).to_contain_text("Olet jonossa", timeout=20_000)
    expect(visitor.locator(".lumo-chat-status")).to_contain_text("Vapaa asiakaspalvelija tulee pian")  # Aino has room

    # The agent is notified (queue + title badge), claims, and sees the bot part of the transcript.
    expect(agent.locator(".queue-item")).to_have_count(1, timeout=10_000)
    expect(agent).to_have_title(re.compile(r"^\(1\) "))
    agent.locator(".queue-item").get_by_role("button", name="Ota käsittelyyn").click()
    conversation_log = agent.locator("#conversation-log")
    expect(conversation_log).to_contain_text("miten mä kirjaudun asiointipalveluun", timeout=10_000)
    expect(conversation_log).to_contain_text(faq_answer("login")[:60])

    # The visitor sees the agent's name; a hostile message is shown as text and runs nothing.
    expect(visitor.locator(".lumo-chat-status")).to_contain_text("Aino", timeout=10_000)
    send(visitor, "<img src=x onerror=alert(1)>")
    expect(conversation_log).to_contain_text("<img src=x onerror=alert(1)>", timeout=10_000)
    assert conversation_log.locator("img").count() == 0

    reply = agent.locator("#reply-input")
    reply.fill("Hei, olen Aino. Miten voin auttaa?")
    reply.press("Enter")
    expect(log).to_contain_text("Hei, olen Aino. Miten voin auttaa?", timeout=10_000)
    expect(log).to_contain_text("Aino")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SCREENSHOTS / "widget.png"))
    agent.screenshot(path=str(SCREENSHOTS / "agent-console.png"))

    # Back to the bot, which answers an FAQ again.
    agent.get_by_role("button", name="Palauta botille").click()
    expect(visitor.locator(".lumo-chat-status")).to_contain_text("Keskustelu palasi botille", timeout=10_000)
    send(visitor, "kauanko hakemuksen käsittely kestää")
    expect(log).to_contain_text(faq_answer("processing_time")[:60], timeout=20_000)
    assert dialogs == [], f"a script ran: {dialogs}"

    # Accessibility: axe-core finds no serious or critical violations, on a phone's width too.
    assert serious(Axe().run(visitor)) == []
    assert serious(Axe().run(agent)) == []
    visitor.set_viewport_size({"width": 390, "height": 844})
    assert serious(Axe().run(visitor)) == []
    for width in (360, 390):  # the console on a phone: usable, nothing wider than the screen
        agent.set_viewport_size({"width": width, "height": 800})
        assert agent.evaluate("document.documentElement.scrollWidth") <= width
        assert serious(Axe().run(agent)) == []
    agent_context.close()
    visitor_context.close()


def test_the_greetings_topic_suggestions_get_the_bots_answers(full_stack, browser):
    """The three topics the widget offers before the visitor writes anything are ones the bot answers."""
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        login_required = yaml.safe_load(handle)["responses"]["utter_login_required"][0]["text"]
    answers = {
        "Milloin etuudet maksetaan?": faq_answer("payment_dates"),
        "Mikä on hakemukseni tilanne?": login_required,  # not logged in: how to log in and ask again
        "Milloin asiakaspalvelu on auki?": faq_answer("opening_hours"),
    }
    with open(ROOT / "liveagent" / "static" / "copy" / "widget.fi.json", encoding="utf-8") as handle:
        assert json.load(handle)["suggestions"] == list(answers)
    for question, answer in answers.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(full_stack.url + "/")
        page.get_by_role("button", name="Avaa chat").click()
        page.get_by_role("group", name="Usein kysyttyä").get_by_role("button", name=question).click()
        expect(page.get_by_role("log")).to_contain_text(answer[:60], timeout=20_000)
        context.close()


def test_chat_survives_reload(full_stack, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(full_stack.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    send(page, "mikä on maksupäivä")
    log = page.get_by_role("log")
    expect(log).to_contain_text(faq_answer("payment_dates")[:60], timeout=20_000)
    page.reload()
    if page.get_by_role("button", name="Avaa chat").is_visible():
        page.get_by_role("button", name="Avaa chat").click()
    expect(page.get_by_role("log")).to_contain_text(faq_answer("payment_dates")[:60], timeout=10_000)
    assert page.get_by_role("log").inner_text().count("mikä on maksupäivä") == 1
    context.close()


def test_two_tabs_show_the_same_chat_once(full_stack, browser):
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    first.goto(full_stack.url + "/")
    first.get_by_role("button", name="Avaa chat").click()
    send(first, "Miten varaan ajan?")
    expect(first.get_by_role("log")).to_contain_text(faq_answer("appointment")[:60], timeout=20_000)
    second.goto(full_stack.url + "/")
    if second.get_by_role("button", name="Avaa chat").is_visible():
        second.get_by_role("button", name="Avaa chat").click()
    expect(second.get_by_role("log")).to_contain_text(faq_answer("appointment")[:60], timeout=10_000)
    send(second, "Miten saan yhteyden Lumoon?")
    expect(first.get_by_role("log")).to_contain_text("Miten saan yhteyden Lumoon?", timeout=20_000)
    expect(first.get_by_role("log")).to_contain_text(faq_answer("contact")[:60], timeout=20_000)
    for page in (first, second):
        text = page.get_by_role("log").inner_text()
        assert text.count("Miten varaan ajan?") == 1
        assert text.count("Miten saan yhteyden Lumoon?") == 1
    context.close()


def test_cross_origin_page_cannot_open_the_chat(full_stack, browser, tmp_path):
    """A page on an origin not on the allow-list (another local port here) gets no chat socket."""
    import functools
    import http.server
    import threading

    from tests.integration.conftest import free_port

    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><title>Toinen sivusto</title></head><body><main><h1>x</h1></main>'
        f'<script src="{full_stack.url}/static/dist/widget.js" data-server="{full_stack.url}" defer></script>'
        '</body></html>'
    )
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_role("button", name="Avaa chat").click()
        send(page, "moi")
        page.wait_for_timeout(3000)
        assert "Hei!" not in page.get_by_role("log").inner_text()
    finally:
        context.close()
        server.shutdown()


def test_widget_works_with_the_keyboard_only(full_stack, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(full_stack.url + "/")
    launcher = page.get_by_role("button", name="Avaa chat")
    for _ in range(40):  # Tab through the page until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("node => node === document.activeElement"):
            break
    else:
        raise AssertionError("the chat launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    box = page.get_by_label("Kirjoita viesti")
    expect(box).to_be_focused()
    page.keyboard.type("Miten lähetän liitteet?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).to_contain_text(faq_answer("attachments")[:60], timeout=20_000)
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()
    context.close()
