"""Automatic assignment by capacity, the response-time limit and the supervisors' floor, as their users do
it in Debian's chromium against the real service (fake Rasa; issue 16 items 1, 2, 6 and 7): two agents
and three visitors in the widget, capacity 1 set by the supervisor in the console, the third visitor
waiting with a truthful place, a freed slot filled at once without a claim, a chat whose agent stays
silent moving to the other agent with the reason shown to the first, a chat moved on the floor, and
axe-core on the new views at desktop and phone width.

Browser notifications and the beep are observed, not replaced: an init script counts the oscillators the
console starts and records each Notification it constructs before handing it to the browser's own.
"""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List

import pytest
from playwright.sync_api import Page, expect

from liveagent import copy
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent import pages
from tests.liveagent.conftest import Agent, Visitor
from tests.liveagent.pages import DESKTOP, PHONE, in_a_thread, no_serious_violations
from tests.liveagent.test_console_browser import as_agent
from tests.liveagent.test_widget_browser import conversation_of, send
from tests.security.test_roles import create_agent

LIMIT = 10  # seconds: the response-time limit of the first test (long enough to answer by typing)
OBSERVE = """
window.__notifications = [];
window.__beeps = 0;
const RealNotification = window.Notification;
if (RealNotification) {
  const Recorded = function (title, options) {
    window.__notifications.push({ title, body: options && options.body });
    return new RealNotification(title, options);
  };
  Object.defineProperty(Recorded, 'permission', { get: () => RealNotification.permission });
  Recorded.requestPermission = (...args) => RealNotification.requestPermission(...args);
  window.Notification = Recorded;
}
const RealAudio = window.AudioContext;
if (RealAudio) {
  const start = RealAudio.prototype.createOscillator;
  RealAudio.prototype.createOscillator = function (...args) {
    window.__beeps += 1;
    return start.apply(this, args);
  };
}
"""


def console(browser, service, username: str, viewport=DESKTOP, online: bool = True) -> Page:  # noqa: F811
    """A console logged in as ``username`` (online when asked), with notifications allowed and observed."""
    return pages.console(browser, service, username, viewport=viewport, online=online, init_script=OBSERVE)


def visitor_page(browser, service) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1024, "height": 760}).new_page()
    page.goto(service.url + "/")
    page.get_by_role("button", name="Avaa chat").click()
    expect(page.get_by_role("log")).to_be_visible()
    return page


def asks_for_a_person(page: Page) -> str:
    """The visitor asks for a person in the widget; their conversation's id."""
    send(page, "haluan puhua ihmisen kanssa")
    expect(page.get_by_role("log")).to_contain_text("haluan puhua ihmisen kanssa")
    for _ in range(100):
        if conversation_of(page):
            return conversation_of(page)
        page.wait_for_timeout(50)
    raise AssertionError("the widget kept no session")


def status_of(page: Page):
    return page.locator(".lumo-chat-status")


def notifications(page: Page) -> List[Dict[str, Any]]:
    return page.evaluate("window.__notifications")


def mine_ids(page: Page) -> List[str]:
    """GET /api/agent/conversations with the console's own session."""
    return page.evaluate("async () => (await (await fetch('/api/agent/conversations')).json())"
                         ".conversations.map((c) => c.id)")


def until(check, page: Page, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true"
        page.wait_for_timeout(100)


def floor_view(page: Page) -> None:
    page.get_by_role("button", name="Tilannekuva").click()
    expect(page.get_by_role("heading", name="Tilannekuva")).to_be_visible()


def agent_row(page: Page, name: str):
    return page.locator("#floor-agents-rows tr").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def set_capacity(page: Page, name: str, value: str) -> None:
    field = page.get_by_label(f"{name}: keskusteluja enintään kerrallaan")
    field.fill(value)
    page.get_by_role("button", name=f"Tallenna: {name}").click()


def answer(page: Page, conversation_id: str, text: str) -> None:
    page.locator(f'#mine-list [data-focus-key="mine:{conversation_id}"]').click()
    box = page.locator("#reply-input")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_role("log", name="Keskustelun viestit")).to_contain_text(text)


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "0.3",
                                          "LIVEAGENT_RESPONSE_LIMIT_SECONDS": str(LIMIT)}])
def test_two_agents_three_visitors_capacity_one_a_missed_limit_and_a_move_on_the_floor(service, browser):  # noqa: F811
    in_a_thread(create_agent(service, "matti", "Matti", "agent"))
    ville = console(browser, service, "ville", online=False)  # supervising, taking no chats
    aino = console(browser, service, "aino")
    matti = console(browser, service, "matti")
    floor_view(ville)
    expect(agent_row(ville, "Aino")).to_contain_text("Paikalla")
    expect(agent_row(ville, "Ville")).to_contain_text("Poissa")
    expect(agent_row(ville, "Matti").locator("td").nth(1)).to_have_text("0/3")

    # the supervisor sets both agents' capacity to 1; a wrong value is refused in Finnish and not sent
    set_capacity(ville, "Aino", "25")
    field = ville.get_by_label("Aino: keskusteluja enintään kerrallaan")
    expect(agent_row(ville, "Aino").locator(".capacity-error")).to_have_text("Anna kokonaisluku väliltä 0–20.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    set_capacity(ville, "Aino", "1")
    expect(ville.locator("#announcer")).to_have_text("Aino: enintään 1 keskustelua kerrallaan.")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    # the floor is drawn anew with Aino's change (a click while it is redrawn is lost: noticed, left alone)
    expect(agent_row(ville, "Aino").locator("td").nth(1)).to_have_text("0/1")
    set_capacity(ville, "Matti", "1")
    expect(ville.locator("#announcer")).to_have_text("Matti: enintään 1 keskustelua kerrallaan.")
    expect(agent_row(ville, "Matti").locator("td").nth(1)).to_have_text("0/1")
    # live in the agents' own consoles
    expect(aino.locator("#mine-load")).to_have_text(re.compile(r"^0/1"))
    expect(matti.locator("#mine-load")).to_have_text(re.compile(r"^0/1"))

    # three visitors ask for a person: each agent gets one without a claim, the third waits
    first, second, third = (visitor_page(browser, service) for _ in range(3))
    first_id = asks_for_a_person(first)
    expect(status_of(first)).to_contain_text(copy.text("status.serving", agent_name="Aino"))
    expect(aino.locator(f'#mine-list [data-focus-key="mine:{first_id}"]')).to_be_visible()
    expect(aino.locator("#mine-load")).to_have_text(re.compile(r"^1/1"))
    expect(aino).to_have_title(re.compile(r"^\(1\) "))  # the title badge, until she opens it
    assert {"title": "Sinulle ohjattiin keskustelu", "body": "Tunnistamaton asiakas"} in notifications(aino)
    assert aino.evaluate("window.__beeps") >= 1
    answer(aino, first_id, "Hei, täällä Aino. Miten voin auttaa?")
    expect(aino).not_to_have_title(re.compile(r"^\("))
    expect(first.get_by_role("log")).to_contain_text("Hei, täällä Aino. Miten voin auttaa?")

    second_id = asks_for_a_person(second)
    expect(status_of(second)).to_contain_text(copy.text("status.serving", agent_name="Matti"))
    expect(matti.locator(f'#mine-list [data-focus-key="mine:{second_id}"]')).to_be_visible()
    answer(matti, second_id, "Hei, Matti tässä.")

    third_id = asks_for_a_person(third)
    # both are full: a truthful place (first) and an estimate, not "someone comes shortly"
    expect(status_of(third)).to_contain_text(re.compile(r"Olet jonossa ensimmäisenä, arvioitu odotus noin \d+ min\."))
    queue_row = ville.locator("#floor-queue-rows tr")
    expect(queue_row).to_have_count(1)
    expect(queue_row.locator("td").first).to_have_text("1")
    expect(queue_row).to_contain_text(copy.text("reasons.visitor_request"))
    expect(aino.locator("#queue-list .queue-item")).to_have_count(1)
    assert third_id not in mine_ids(aino) + mine_ids(matti)

    # Aino frees her slot: the waiting chat is hers at once, without a claim
    aino.get_by_role("button", name="Sulje keskustelu").click()
    freed = time.monotonic()
    while third_id not in mine_ids(aino):
        assert time.monotonic() - freed < 5, "the waiting chat did not come to Aino within 5 s"
        aino.wait_for_timeout(100)
    took = time.monotonic() - freed
    print(f"\nfreed slot -> waiting chat in GET /api/agent/conversations: {took:.2f} s")
    expect(status_of(third)).to_contain_text(copy.text("status.serving", agent_name="Aino"))
    expect(aino.locator(f'#mine-list [data-focus-key="mine:{third_id}"]')).to_be_visible()
    expect(aino.locator("#queue-list .queue-item")).to_have_count(0)
    assert sum(n["title"] == "Sinulle ohjattiin keskustelu" for n in notifications(aino)) == 2

    # Matti closes his chat; Aino does not answer hers: at the limit it moves to Matti, and she reads why
    matti.get_by_role("button", name="Sulje keskustelu").click()
    expect(matti.locator("#mine-load")).to_have_text(re.compile(r"^0/1"))
    why = copy.text("notices.response_limit_transferred", agent_name="Matti", seconds=LIMIT)
    expect(aino.locator("#connection-state")).to_have_text(why, timeout=(LIMIT + 10) * 1000)
    expect(aino.locator(f'#mine-list [data-focus-key="mine:{third_id}"]')).to_have_count(0)
    expect(third.get_by_role("log")).to_contain_text(copy.text("status.transferred", agent_name="Matti"))
    expect(matti.locator(f'#mine-list [data-focus-key="mine:{third_id}"]')).to_be_visible()
    until(lambda: "Sinulle siirrettiin keskustelu" in [n["title"] for n in notifications(matti)], matti)
    chat_row = ville.locator("#floor-chats-rows tr")
    expect(chat_row).to_have_count(1)
    expect(chat_row.locator("td").first).to_have_text("Matti")
    expect(chat_row.locator(".floor-response")).to_have_text(re.compile(r"^Vastaamatta \d+ s$"))
    no_serious_violations(ville)

    # the supervisor moves it back to Aino on the floor; the visitor and both agents are told
    ville.get_by_label("Asiakaspalvelija, jolle keskustelu siirretään: Tunnistamaton asiakas").select_option(
        label="Aino (0/1)")
    ville.get_by_role("button", name="Siirrä keskustelu: Tunnistamaton asiakas").click()
    expect(ville.locator("#announcer")).to_have_text("Keskustelu siirretty: Tunnistamaton asiakas – Aino.")
    expect(third.get_by_role("log")).to_contain_text(copy.text("status.transferred", agent_name="Aino"))
    moved = copy.text("notices.moved_by_supervisor", supervisor_name="Ville", agent_name="Aino")
    expect(matti.locator("#connection-state")).to_have_text(moved)
    expect(aino.locator(f'#mine-list [data-focus-key="mine:{third_id}"]')).to_be_visible()
    expect(chat_row.locator("td").first).to_have_text("Aino")
    expect(agent_row(ville, "Aino").locator("td").nth(1)).to_have_text("1/1, täynnä")


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_RESPONSE_LIMIT_SECONDS": "2", "LIVEAGENT_SWEEP_SECONDS": "3600"}])
def test_the_floor_at_phone_width_highlights_a_late_answer_and_moves_a_waiting_chat_by_keyboard(
        service, browser):  # noqa: F811
    async def aino_holds_one() -> str:
        async def claim(aino: Agent) -> str:
            assert (await aino.call("PUT", "/presence", {"presence": "online"})).status == 200
            held = Visitor(service)
            await held.connect()
            await held.say("haluan puhua ihmisen kanssa")
            await held.wait_for("status", lambda d: d["state"] == "waiting")
            await held.close()
            conversation_id = held.token.split(".")[0]
            assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
            return conversation_id

        return await as_agent(service, "aino", claim)

    held_id = in_a_thread(aino_holds_one())  # manual assignment: the sweep that would requeue it is an hour away
    ville = console(browser, service, "ville", viewport=PHONE, online=False)
    floor_view(ville)
    chat_row = ville.locator(f'#floor-chats-rows tr[data-conversation-id="{held_id}"]')
    expect(chat_row).to_have_class(re.compile(r"\bfloor-over\b"))  # over the 2 s limit, and it says by how much
    expect(chat_row.locator(".floor-response")).to_have_text(
        re.compile(r"^Vastaamatta \d+ s – vastausaikaraja ylittynyt \d+ s$"))

    waiting = visitor_page(browser, service)
    waiting_id = asks_for_a_person(waiting)
    queue_row = ville.locator(f'#floor-queue-rows tr[data-conversation-id="{waiting_id}"]')
    expect(queue_row.locator("td")).to_have_text(["1", copy.text("reasons.visitor_request"), "0",
                                                  re.compile(r"^\d+ s$"), re.compile("Siirrä")])
    # a capacity that is no whole number is refused, said beside the field
    set_capacity(ville, "Aino", "-1")
    expect(agent_row(ville, "Aino").locator(".capacity-error")).to_have_text("Anna kokonaisluku väliltä 0–20.")
    no_serious_violations(ville)
    assert ville.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the tables scroll, the page not

    # by keyboard: choose Aino for the waiting chat and press Enter on "Siirrä"
    choose = ville.get_by_label("Asiakaspalvelija, jolle keskustelu siirretään: Tunnistamaton asiakas").last
    choose.focus()
    choose.select_option(label="Aino (1/3)")
    choose.press("Tab")
    move = ville.get_by_role("button", name="Siirrä keskustelu: Tunnistamaton asiakas").last
    expect(move).to_be_focused()
    move.press("Enter")
    expect(status_of(waiting)).to_contain_text(copy.text("status.serving", agent_name="Aino"))
    expect(ville.locator("#floor-queue-empty")).to_have_text("Jonossa ei ole asiakkaita.")
    expect(ville.locator("#floor-chats-rows tr")).to_have_count(2)
    expect(agent_row(ville, "Aino").locator("td").nth(1)).to_have_text("2/3")
    no_serious_violations(ville)
