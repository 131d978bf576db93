"""An editor adds a topic in the browser, publishes it, and the widget answers a new wording of it.

Real everything: chromium, the live-agent service, Rasa (the new model is trained, gated by the
regression tests and hot-loaded for real), the action server. The content is a copy, and the stack is
this module's own: the models published here never reach another module's tests.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.integration.conftest import Service, full_stack_running
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
# What docs/nlu.md, "The publish gate" measured as a harmful edit: login-problem phrasings added to "Kirjautuminen".
LOGIN_PROBLEMS_AS_LOGIN = [
    "en pääse kirjautumaan sisään", "kirjautuminen ei nyt onnistu", "tunnukset eivät toimi",
    "tunnistautuminen epäonnistuu koko ajan", "pankkitunnukset ei käy", "kirjautuminen kaatuu virheeseen",
    "en pääse palveluun", "sisäänkirjautuminen ei toimi", "mobiilivarmenne ei toimi kirjautuessa",
    "kirjautumisessa tulee virheilmoitus", "miksi kirjautuminen ei onnistu", "en saa kirjauduttua",
    "kirjautuminen jumittaa aina", "tili lukittui kun yritin kirjautua", "ei pääse sisään asiointiin",
]
# How long the page may take to reach its final state. The 2-minute target of a publish is measured
# (docs/nlu.md, "The publish gate"), not asserted here: on a busy shared machine a publish takes longer,
# and a timed test would fail for that alone. The elapsed time is printed.
PUBLISH_TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def full_stack(tmp_path_factory) -> Iterator[Service]:
    """A stack of this module's own (the tests below publish into it, in order)."""
    with full_stack_running(tmp_path_factory.mktemp("editor")) as service:
        yield service


def warm_e5_cache(full_stack) -> None:
    """The content copy gets the checkout's e5 cache, as the editors' working copy has it after `make run`
    (training examples only: texts the project already has)."""
    cache = ROOT / ".rasa" / "e5-cache.sqlite"
    target = Path(full_stack.env["LIVEAGENT_CONTENT_ROOT"]) / ".rasa"
    if cache.exists() and not (target / cache.name).exists():
        target.mkdir(exist_ok=True)
        shutil.copy(cache, target / cache.name)


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
    warm_e5_cache(full_stack)
    page.locator("#nav-publish").click()
    expect(page.locator("#findings-summary")).not_to_contain_text("Tarkistetaan", timeout=60_000)
    started = time.monotonic()
    page.locator("#publish-button").click()
    expect(page.locator("#publish-detail")).to_contain_text(re.compile("Tarkistetaan|Koulutetaan"), timeout=30_000)
    expect(page.locator("#publish-detail")).to_contain_text("Koulutetaan uutta mallia: ", timeout=60_000)
    expect(page.locator("#publish-percent")).to_have_text(re.compile(r"\d+ %"))
    page.screenshot(path=str(SCREENSHOTS / "editor-publish.png"), full_page=True)
    expect(page.locator("#publish-result")).to_contain_text("Julkaistu", timeout=PUBLISH_TIMEOUT_SECONDS * 1000)
    print(f"publish in the browser: {time.monotonic() - started:.1f} s")
    expect(page.locator("#publish-progress-box")).to_be_hidden()
    expect(page.locator("#rollback-button")).to_be_enabled()
    assert serious(Axe().run(page)) == []

    # a visitor asks in words the editor never wrote, and gets the new answer
    after = ask_widget(browser.new_context(), full_stack.url, NEW_WORDING)
    expect(after).to_contain_text("maksuton asiakaspysäköinti")
    assert errors == []
    editor.close()
    visitor.close()


def test_a_publish_that_breaks_another_topic_is_refused_with_the_messages_and_the_page_ends_still(
        full_stack, browser, tmp_path):  # noqa: F811
    """After the topic above was published (so a previous model exists), an edit that the gate measured
    as harmful is refused: the reasons name the topic and the test messages, the editor's own example
    is pointed at, nothing spins, and rollback stays available. Also at 390 px wide."""
    editor = browser.new_context(viewport={"width": 390, "height": 844})
    page = editor.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, full_stack.url)
    page.locator("#topic-list").get_by_text("Kirjautuminen", exact=True).click()
    page.locator("#examples-new").fill("\n".join(LOGIN_PROBLEMS_AS_LOGIN))
    page.locator("#examples-add").click()
    expect(page.locator("#examples-result")).to_contain_text("Lisätty 15 esimerkkiä")

    warm_e5_cache(full_stack)
    page.locator("#nav-publish").click()
    # Whatever ran before (another test's publish) has finished: the button is enabled again.
    expect(page.locator("#publish-button")).to_be_enabled(timeout=PUBLISH_TIMEOUT_SECONDS * 1000)
    started = time.monotonic()
    page.locator("#publish-button").click()
    result = page.locator("#publish-result")
    expect(result).to_contain_text("Julkaisu epäonnistui", timeout=PUBLISH_TIMEOUT_SECONDS * 1000)
    print(f"refused publish in the browser: {time.monotonic() - started:.1f} s")
    expect(result).to_contain_text("Aihe ”Kirjautumisongelmat” heikkeni")
    expect(result).to_contain_text("tulkitaan nyt aiheeksi ”Kirjautuminen”")
    expect(result).to_contain_text("Tämä johtuu todennäköisesti uudesta esimerkistäsi")
    # the final state: no bar, no "checking" left, and the previous model can be brought back
    expect(page.locator("#publish-progress-box")).to_be_hidden()
    expect(page.locator("#findings-summary")).not_to_contain_text("Tarkistetaan", timeout=60_000)
    expect(page.locator("#rollback-button")).to_be_enabled()
    expect(page.locator("#publish-button")).to_be_enabled()
    page.screenshot(path=str(tmp_path / "editor-refused-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    # a reload shows the same final state, not a spinner
    page.reload()
    page.locator("#nav-publish").click()
    expect(page.locator("#publish-result")).to_contain_text("Julkaisu epäonnistui")
    expect(page.locator("#publish-progress-box")).to_be_hidden()
    expect(page.locator("#findings-summary")).not_to_contain_text("Tarkistetaan", timeout=60_000)
    expect(page.locator("#rollback-button")).to_be_enabled()
    assert serious(Axe().run(page)) == []
    assert errors == []
    editor.close()
