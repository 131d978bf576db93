"""The visitor widget on the demo site in Debian's chromium, against the real service and the fake Rasa
(issue 15, items 2, 5 and 6): phone-sized views with mobile emulation, the greeting and its topic
suggestions, the panel's open state across reloads, the login shared by a second tab, and the
message limit the widget takes from the service.

Screenshots of the phone views go to the test's temporary directory; what they should show is checked
by bounding boxes against the viewport. axe-core must find no serious or critical violation on them.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import pytest
from playwright.sync_api import Page, expect

from lumo_shared.identity import CUSTOMER_METADATA_KEY
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import service, service_env  # noqa: F401 - fixtures
from tests.liveagent.pages import as_agent, in_a_thread, no_serious_violations  # noqa: F401 - also imported from here

PHONES = [pytest.param((360, 740), id="360x740"), pytest.param((390, 844), id="390x844")]
SUGGESTIONS = ["Milloin etuudet maksetaan?", "Mikä on hakemukseni tilanne?", "Milloin asiakaspalvelu on auki?"]
GREETING = "Hei, olen Lumon virtuaaliavustaja"


def phone(browser, size):  # noqa: F811
    width, height = size
    return browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True,
                               device_scale_factor=3)


def box_of(locator) -> Dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box


def inside_viewport(page: Page, locator) -> bool:
    box, view = box_of(locator), page.viewport_size
    return (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= view["width"] + 0.5
            and box["y"] + box["height"] <= view["height"] + 0.5)


def overlap(a: Dict[str, float], b: Dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def stored(page: Page) -> Dict[str, Any]:
    return json.loads(page.evaluate("window.localStorage.getItem('lumo-chat')") or "{}")


def conversation_of(page: Page) -> str:
    return (stored(page).get("token") or "").split(".")[0]


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Kirjoita viesti")
    box.fill(text)
    box.press("Enter")


def visitor_texts(service) -> List[str]:  # noqa: F811
    """Every visitor message the (fake) Rasa was sent, in all conversations."""
    return [entry["text"] for entries in service.rasa_log()["log"].values() for entry in entries
            if entry["kind"] == "user"]


def until(page: Page, expression: str, timeout_ms: int = 10_000) -> None:
    """Until ``expression`` is truthy in the page (the site's CSP forbids wait_for_function's eval)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{expression} stayed false")


# ---- phones (item 5) -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", PHONES)
def test_the_demo_site_and_the_widget_fit_a_phone(service, browser, tmp_path, size):  # noqa: F811
    width, height = size
    context = phone(browser, size)
    page = context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(service.url + "/")
    launcher = page.get_by_role("button", name="Avaa chat")
    expect(launcher).to_be_visible()
    page.screenshot(path=str(tmp_path / f"site-{width}.png"))
    assert page_width(page) <= width  # nothing widens the page (the customer select did)
    assert page.evaluate("window.innerWidth") == width
    assert inside_viewport(page, launcher)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # still there at the end of the page
    assert inside_viewport(page, launcher)
    no_serious_violations(page)

    # Open: the panel fills the screen, with its close button, the input and "Lähetä" in view.
    launcher.tap()
    panel = page.get_by_role("dialog", name="Lumo-chat")
    expect(panel).to_be_visible()
    assert box_of(panel) == {"x": 0, "y": 0, "width": width, "height": height}
    for control in (page.get_by_role("button", name="Sulje keskustelu"), page.get_by_role("button", name="Lähetä"),
                    page.get_by_label("Kirjoita viesti")):
        assert inside_viewport(page, control)
    expect(page.get_by_role("log")).to_contain_text(GREETING)
    page.screenshot(path=str(tmp_path / f"panel-{width}.png"))
    assert page_width(page) <= width
    no_serious_violations(page)

    # The on-screen keyboard takes the lower part of the screen: the panel follows what is left.
    page.get_by_label("Kirjoita viesti").focus()
    page.set_viewport_size({"width": width, "height": height - 320})
    expect(panel).to_have_css("height", f"{height - 320}px")
    assert page.evaluate("document.querySelector('.lumo-chat').style.getPropertyValue('--lumo-chat-viewport-height')"
                         ) == f"{height - 320}px"  # from visualViewport, which a real keyboard shrinks alone
    for control in (page.get_by_role("button", name="Lähetä"), page.get_by_label("Kirjoita viesti"),
                    page.get_by_role("button", name="Sulje keskustelu")):
        assert inside_viewport(page, control)
    page.screenshot(path=str(tmp_path / f"keyboard-{width}.png"))
    page.set_viewport_size({"width": width, "height": height})

    # Nobody online: the contact form comes under the bot's explanation and scrolls with the messages.
    send(page, "haluan puhua ihmisen kanssa")
    form = page.get_by_role("form", name="Jätä yhteydenottopyyntö")
    expect(form).to_be_visible(timeout=10_000)
    explanation = page.locator(".lumo-chat-message--system").last
    expect(explanation).to_contain_text("asiakaspalvelijaa")
    assert form.evaluate("node => node.scrollHeight <= node.clientHeight")  # no scroll box of its own
    assert form.evaluate("node => node.parentElement === document.querySelector('.lumo-chat-log').parentElement")
    assert box_of(form)["y"] >= box_of(explanation)["y"] + box_of(explanation)["height"]  # under, not over it
    explanation.scroll_into_view_if_needed()
    assert inside_viewport(page, explanation)
    page.screenshot(path=str(tmp_path / f"contact-form-{width}.png"))
    no_serious_violations(page)
    page.get_by_label("Nimi").fill("Testi Henkilö")
    page.get_by_label("Puhelin tai sähköposti").fill("testi@example.com")
    page.get_by_label("Viesti", exact=True).fill("Soittakaa minulle.")
    submit = page.get_by_role("button", name="Lähetä yhteydenottopyyntö")
    submit.scroll_into_view_if_needed()
    assert inside_viewport(page, submit)
    submit.tap()
    expect(page.locator(".lumo-chat-status")).to_contain_text("Yhteydenottopyyntösi on vastaanotettu")
    expect(form).to_be_hidden()

    # An agent serves and closes the chat: the rating comes under the messages, all of it reachable.
    conversation = conversation_of(page)
    assert in_a_thread(as_agent(service, "aino", ("PUT", "/presence", {"presence": "online"}))) == [200]
    send(page, "haluan puhua ihmisen kanssa")
    expect(page.locator(".lumo-chat-status")).to_contain_text("Olet jonossa", timeout=10_000)
    assert in_a_thread(as_agent(service, "aino", ("POST", f"/conversations/{conversation}/claim", None),
                               ("POST", f"/conversations/{conversation}/close", None))) == [200, 200]
    rating = page.get_by_role("group", name="Miten onnistuimme? Arvioi asiakaspalvelu asteikolla 1–5")
    expect(rating).to_be_visible(timeout=10_000)
    closed = page.locator(".lumo-chat-message--system").last
    expect(closed).to_contain_text("Asiakaspalvelija päätti keskustelun")
    assert not overlap(box_of(rating), box_of(closed))
    assert box_of(rating)["y"] >= box_of(closed)["y"] + box_of(closed)["height"]
    # the question is read on screen once, above its buttons (the status line keeps it for screen readers)
    question = rating.locator(".lumo-chat-rating-question")
    expect(question).to_have_text("Miten onnistuimme? Arvioi asiakaspalvelu asteikolla 1–5")
    assert box_of(question)["height"] > 1
    assert box_of(question)["y"] < box_of(rating.get_by_role("button", name="Arvio 1 / 5"))["y"]
    status_line = page.locator(".lumo-chat-status-text")
    expect(status_line).to_contain_text("Miten onnistuimme?")
    assert box_of(status_line)["height"] <= 1  # visually hidden
    for control in (rating.get_by_role("button", name="Arvio 1 / 5"), rating.get_by_role("button", name="Arvio 5 / 5"),
                    page.get_by_role("button", name="Lähetä")):
        control.scroll_into_view_if_needed()
        assert inside_viewport(page, control)
    page.screenshot(path=str(tmp_path / f"rating-{width}.png"))
    no_serious_violations(page)
    rating.get_by_role("button", name="Arvio 5 / 5").tap()
    expect(page.locator(".lumo-chat-status")).to_contain_text("Kiitos arviostasi!")

    page.get_by_role("button", name="Sulje keskustelu").tap()
    expect(launcher).to_be_visible()
    assert inside_viewport(page, launcher)
    assert page_width(page) <= width
    assert errors == []
    context.close()


# ---- greeting and suggestions, open state, second tab (item 6) -------------------------------------------


def test_the_chat_opens_with_a_greeting_and_suggestions_without_asking_rasa(service, browser):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text(GREETING)
    topics = log.get_by_role("group", name="Usein kysyttyä").get_by_role("button")
    expect(topics).to_have_text(SUGGESTIONS)
    expect(page.get_by_label("Kirjoita viesti")).to_be_focused()
    until(page, "JSON.parse(localStorage.getItem('lumo-chat') || '{}').token")  # connected
    assert service.rasa_log()["log"] == {}  # the greeting is the widget's own: Rasa was not asked

    log.get_by_role("button", name="Milloin etuudet maksetaan?").click()
    expect(log.locator(".lumo-chat-message--visitor .lumo-chat-text")).to_have_text(["Milloin etuudet maksetaan?"])
    expect(log).to_contain_text("Botti: Milloin etuudet maksetaan?")  # the fake Rasa's answer
    assert visitor_texts(service) == ["Milloin etuudet maksetaan?"]
    expect(log.get_by_role("group", name="Usein kysyttyä")).to_be_hidden()  # the visitor has started
    expect(page.get_by_label("Kirjoita viesti")).to_be_focused()

    page.reload()  # left open: open again, greeting first, no suggestions once the visitor has written
    expect(page.get_by_role("dialog", name="Lumo-chat")).to_be_visible()
    expect(page.get_by_role("log")).to_contain_text(GREETING)
    expect(page.get_by_role("log")).to_contain_text("Botti: Milloin etuudet maksetaan?")
    expect(page.get_by_role("group", name="Usein kysyttyä")).to_be_hidden()
    context.close()


def test_the_panel_is_open_or_closed_after_a_reload_as_this_tab_left_it(service, browser):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto(service.url + "/")
    launcher = page.get_by_role("button", name="Avaa chat")
    panel = page.get_by_role("dialog", name="Lumo-chat")
    launcher.click()
    expect(panel).to_be_visible()
    page.reload()
    expect(panel).to_be_visible()
    expect(launcher).to_be_hidden()
    expect(page.get_by_label("Kirjoita viesti")).not_to_be_focused()  # a reload does not move the focus
    page.goto(service.url + "/?sivu=2")  # another page of the site in the same tab
    expect(panel).to_be_visible()

    other = context.new_page()  # another tab starts closed, although it shows the same chat
    other.goto(service.url + "/")
    expect(other.get_by_role("button", name="Avaa chat")).to_be_visible()
    expect(other.get_by_role("dialog", name="Lumo-chat")).to_be_hidden()

    page.get_by_role("button", name="Sulje keskustelu").click()
    page.reload()
    expect(launcher).to_be_visible()
    expect(panel).to_be_hidden()
    context.close()


def login(page: Page, customer_id: str) -> None:
    page.get_by_label("Demoasiakas").select_option(customer_id)
    page.get_by_role("button", name="Kirjaudu", exact=True).click()
    logged_in(page, customer_id)


def logged_in(page: Page, customer_id: str) -> None:
    expect(page.locator("#demo-login-status")).to_have_text(f"Olet kirjautunut demoasiakkaana {customer_id}.")


def customer_of_message(service, text: str) -> Optional[str]:  # noqa: F811
    """The signed customer id the service sent to Rasa with ``text`` (None: an anonymous message)."""
    for entries in service.rasa_log()["log"].values():
        for entry in entries:
            if entry["kind"] == "user" and entry["text"] == text:
                return entry["metadata"].get(CUSTOMER_METADATA_KEY)
    raise AssertionError(f"Rasa never got {text!r}")


def test_a_second_tab_shares_the_login_and_logging_out_in_one_logs_out_both(service, browser):  # noqa: F811
    context = browser.new_context()
    first = context.new_page()
    first.goto(service.url + "/")
    login(first, "LUMO-1001")
    first.get_by_role("button", name="Avaa chat").click()
    send(first, "ensimmäisen välilehden kysymys")
    expect(first.get_by_role("log")).to_contain_text("Botti: ensimmäisen välilehden kysymys")
    assert customer_of_message(service, "ensimmäisen välilehden kysymys")

    second = context.new_page()
    second.goto(service.url + "/")
    logged_in(second, "LUMO-1001")  # the same verified login, not an anonymous visitor
    second.get_by_role("button", name="Avaa chat").click()
    expect(second.get_by_role("log")).to_contain_text("Botti: ensimmäisen välilehden kysymys")
    send(second, "toisen välilehden kysymys")
    expect(second.get_by_role("log")).to_contain_text("Botti: toisen välilehden kysymys")
    expect(first.get_by_role("log")).to_contain_text("Botti: toisen välilehden kysymys")
    assert customer_of_message(service, "toisen välilehden kysymys")  # Rasa knows who asks, in both tabs
    assert conversation_of(first) == conversation_of(second)

    second.get_by_role("button", name="Kirjaudu ulos").click()  # out in one tab: out in both
    expect(first.locator("#demo-login-status")).to_have_text("Kirjauduit ulos. Et ole kirjautunut.")
    expect(first.get_by_role("log")).not_to_contain_text("kysymys")
    expect(second.get_by_role("log")).not_to_contain_text("kysymys")
    send(first, "uloskirjautuneen kysymys")
    expect(first.get_by_role("log")).to_contain_text("Botti: uloskirjautuneen kysymys")
    assert customer_of_message(service, "uloskirjautuneen kysymys") is None

    login(first, "LUMO-1002")  # and in again: the other tab follows
    logged_in(second, "LUMO-1002")
    context.close()


# ---- the message limit (item 2, the widget's side) ----------------------------------------------------------


LIMIT_300 = {"LIVEAGENT_MAX_MESSAGE_CHARS": "300"}


@pytest.mark.parametrize("service_env", [LIMIT_300])
def test_a_message_over_the_services_limit_is_refused_before_sending_and_kept(service, browser):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    until(page, "JSON.parse(localStorage.getItem('lumo-chat') || '{}').maxMessageChars === 300")
    box = page.get_by_label("Kirjoita viesti")
    note = page.locator(".lumo-chat-length")

    box.fill("a" * 200)
    expect(note).to_be_hidden()  # far from the limit: no count
    box.fill("a" * 250)
    expect(note).to_have_text("250 / 300 merkkiä")
    box.fill("")
    pasted = "Pitkä liitetty teksti. " * 62 + "Loppu."  # 1 432 characters, pasted at once
    box.focus()
    page.keyboard.insert_text(pasted)
    assert box.input_value() == pasted  # never cut by the input
    box.press("Enter")
    refusal = "Viesti on liian pitkä (1\u00a0432 / 300 merkkiä). Lyhennä viestiä tai jaa se osiin."
    expect(note).to_have_text(refusal)
    expect(page.get_by_role("alert").filter(has_text="Viesti on liian pitkä")).to_have_text(refusal)
    expect(box).to_have_value(pasted)  # kept to be shortened
    expect(box).to_have_attribute("aria-invalid", "true")
    assert box.evaluate("node => node.getAttribute('aria-describedby').split(' ')[0]") == note.get_attribute("id")
    page.get_by_role("button", name="Lähetä").click()
    expect(box).to_have_value(pasted)
    page.wait_for_timeout(300)
    assert visitor_texts(service) == []  # nothing went to the service
    expect(page.get_by_role("log").locator(".lumo-chat-message--visitor")).to_have_count(0)

    emoji = "👍" * 300  # 300 characters as the service counts them (600 UTF-16 units)
    box.fill(emoji)
    expect(note).to_have_text("300 / 300 merkkiä")
    expect(box).not_to_have_attribute("aria-invalid", "true")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(note).to_be_hidden()
    expect(page.get_by_role("log")).to_contain_text("Botti: " + emoji[:20])
    assert visitor_texts(service) == [emoji]  # whole, exactly as written
    context.close()


@pytest.mark.parametrize("service_env", [LIMIT_300])
def test_a_long_message_written_before_the_limit_was_known_is_not_sent_but_given_back(service, browser):  # noqa: F811
    """A first visit that writes before the connection is up: the message waits, and when the service's
    limit arrives it is not sent but returned to the input with the note, marked as not sent."""
    context = browser.new_context()
    page = context.new_page()
    held: List[Any] = []
    page.route("**/static/vendor/socket.io.min.js", lambda route: held.append(route))
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    long_text = "b" * 450
    send(page, long_text)
    expect(page.locator(".lumo-chat-message--visitor")).to_contain_text("Lähetetään…")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()  # the connection comes up: session_confirm brings the limit
    expect(page.locator(".lumo-chat-message--visitor")).to_contain_text("Viestiä ei lähetetty.")
    expect(page.get_by_label("Kirjoita viesti")).to_have_value(long_text)
    expect(page.locator(".lumo-chat-length")).to_have_text(
        "Viesti on liian pitkä (450 / 300 merkkiä). Lyhennä viestiä tai jaa se osiin.")
    page.wait_for_timeout(300)
    assert visitor_texts(service) == []
    context.close()
