"""An editor adds a topic in the browser, publishes it, and the widget answers a new wording of it.

Real everything: chromium, the live-agent service, Rasa (the new model is trained, gated by the
regression tests and hot-loaded for real), the action server. The content is a copy (full_stack).
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.integration.test_browser_loop import SCREENSHOTS, browser, send, serious  # noqa: F401 - fixture
from tests.liveagent.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.integration

ANSWER = ("Toimipisteen pihalla on maksuton asiakaspysäköinti enintään kahdeksi tunniksi. Aseta "
          "pysäköintikiekko näkyville. Liikkumisesteisille on kaksi paikkaa aivan sisäänkäynnin vieressä.")
EXAMPLES = [
    "voiko toimipisteen pihalle pysäköidä",
    "onko teillä asiakaspysäköintiä",
    "missä voin pysäköidä kun tulen toimistolle",
    "onko pysäköinti maksullista",
    "pysäköinti",
    "parkkipaikka",
    "onko toimiston luona parkkipaikkoja",
    "mihin auton voi jättää asioinnin ajaksi",
    "tarvitsenko pysäköintikiekon",
    "onko invapaikkoja",
    "onks teil parkkii",
    "voinko tulla autolla toimistolle",
]
# Twelve examples, as an editor would start. In a trial with eight more parking phrasings the gate
# refused to publish (out-of-scope probe 79.4 % < 80 %): docs/editing.md tells editors what to do then.
NEW_WORDING = "saako teidän pihaan jättää auton siksi aikaa kun asioin"


def login(page, base_url: str) -> None:
    page.goto(f"{base_url}/editor")
    page.locator("#username").fill("eeva")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#login-button").click()
    expect(page.locator("#topic-list")).to_contain_text("Aukioloajat")


def ask_widget(context, base_url: str, text: str):
    """The visitor asks; returns the bot's (first) answer as a locator."""
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    send(page, text)
    answer = page.locator(".lumo-chat-message--bot").first
    expect(answer).to_be_visible(timeout=30_000)
    return answer


def test_editor_adds_a_topic_publishes_and_the_widget_answers_it(full_stack, browser):  # noqa: F811
    editor = browser.new_context()
    page = editor.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, full_stack.url)

    # the bot does not know the topic yet
    visitor = browser.new_context()
    before = ask_widget(visitor, full_stack.url, NEW_WORDING)
    expect(before).not_to_contain_text("asiakaspysäköinti")

    # a new topic, with a preview as the widget will show it
    page.locator("#new-topic-button").click()
    page.locator("#new-topic-name").fill("pysakointi")
    page.locator("#new-topic-title").fill("Pysäköinti")
    page.locator("#new-topic-answer").fill(ANSWER)
    page.locator("#new-topic-examples").fill("\n".join(EXAMPLES))
    expect(page.locator("#new-topic-form")).to_contain_text("Aseta pysäköintikiekko näkyville.")
    page.locator("#new-topic-submit").click()
    expect(page.locator("#editor-status")).to_contain_text(re.compile("luotu|Luotu|tallennettu", re.I))
    expect(page.locator("#topic-list")).to_contain_text("Pysäköinti")
    expect(page.locator("#answer-text")).to_have_value(ANSWER)
    expect(page.locator("#answer-preview")).to_contain_text("maksuton asiakaspysäköinti")

    # the change log shows who did what
    page.locator("#nav-changes").click()
    expect(page.locator("#changes-list")).to_contain_text("Eeva")
    expect(page.locator("#changes-list")).to_contain_text("pysakointi")

    # publish: validate, train, test, load; the progress is shown until it is done
    page.locator("#nav-publish").click()
    page.locator("#publish-button").click()
    expect(page.locator("#publish-detail")).to_contain_text(re.compile("Tarkistetaan|Koulutetaan"), timeout=30_000)
    expect(page.locator("#publish-detail")).to_contain_text(re.compile(r"Koulutetaan uutta mallia: .* \d+ %"),
                                                            timeout=180_000)
    page.screenshot(path=str(SCREENSHOTS / "editor-publish.png"), full_page=True)
    expect(page.locator("#publish-result")).to_contain_text("Julkaistu", timeout=900_000)
    expect(page.locator("#rollback-button")).to_be_enabled()
    assert serious(Axe().run(page)) == []

    # a visitor asks in words the editor never wrote, and gets the new answer
    after = ask_widget(browser.new_context(), full_stack.url, NEW_WORDING)
    expect(after).to_contain_text("maksuton asiakaspysäköinti")
    assert errors == []
    editor.close()
    visitor.close()
