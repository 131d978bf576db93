"""The agent console in a real browser (Debian's chromium through Playwright) against the in-process service
and the fake Rasa: issue 15's console items clicked through as agents and supervisors use them, with
axe-core at desktop and phone width."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Callable, List

import aiohttp
import pytest
from playwright.sync_api import expect

from tests.conftest import make_token
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import Agent, Visitor
from tests.liveagent.pages import PHONE, console, content_editor, in_a_thread, no_serious_violations


async def as_agent(service, username: str, work: Callable[[Agent], Any]) -> Any:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": service.url}) as session:
        agent = Agent(service, session)
        assert (await agent.login(username)).status == 200
        return await work(agent)


async def waiting_visitor(service, texts: List[str] = ["haluan puhua ihmisen kanssa"]) -> str:  # noqa: B006
    """A visitor who wrote ``texts`` and waits in the queue; the conversation's id."""
    visitor = Visitor(service)
    await visitor.connect()
    for text in texts:
        await visitor.say(text)
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    await visitor.close()
    return visitor.token.split(".")[0]


async def visitor_says(service, token: str, *texts: str) -> None:
    """The visitor of session ``token`` comes back (a new connection, the same conversation) and writes."""
    visitor = Visitor(service)
    await visitor.connect(token)
    for text in texts:
        await visitor.say(text)
    await asyncio.sleep(0.2)  # the service has the events before the socket goes
    await visitor.close()


async def waiting_session(service) -> str:
    """A visitor waiting in the queue; their session token (to come back with)."""
    visitor = Visitor(service)
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    await visitor.close()
    return visitor.token


@pytest.mark.parametrize("service_env", [{}])
def test_supervisors_manage_canned_replies_and_every_console_follows_live(service, browser):  # noqa: F811
    ville = console(browser, service, "ville")
    aino = console(browser, service, "aino")
    expect(aino.get_by_role("button", name="Valmiit vastaukset")).to_be_hidden()  # agents only use them
    expect(aino.locator("#canned-select option")).to_have_text(["Ei valmiita vastauksia"])

    ville.get_by_role("button", name="Valmiit vastaukset").click()
    expect(ville.get_by_role("heading", name="Valmiit vastaukset", exact=True)).to_be_visible()
    ville.get_by_label("Otsikko").fill("Tervehdys")
    ville.get_by_label("Teksti asiakkaalle").fill("Hei! Miten voin auttaa?")
    ville.get_by_role("button", name="Tallenna").click()
    expect(ville.locator("#announcer")).to_have_text("Valmis vastaus tallennettu: Tervehdys.")
    expect(ville.locator("#canned-list .card-title")).to_have_text(["Tervehdys"])
    # Aino's picker has it without a reload.
    expect(aino.locator("#canned-select option")).to_have_text(["Valitse valmis vastaus", "Tervehdys"])

    ville.locator("#canned-list li").filter(has_text="Tervehdys").get_by_role("button", name="Muokkaa").click()
    expect(ville.get_by_label("Otsikko")).to_be_focused()
    expect(ville.locator("#canned-form-title")).to_have_text("Muokkaa: Tervehdys")
    ville.get_by_label("Teksti asiakkaalle").fill("Hei! Olen Ville. Miten voin auttaa?")
    ville.get_by_role("button", name="Tallenna").click()
    expect(ville.locator("#announcer")).to_have_text("Muutokset tallennettu: Tervehdys.")
    expect(ville.locator("#canned-form-title")).to_have_text("Uusi valmis vastaus")
    ville.get_by_label("Otsikko").fill("Aukioloajat")
    ville.get_by_label("Teksti asiakkaalle").fill("Palvelemme arkisin kello 8–16.")
    ville.get_by_role("button", name="Tallenna").click()
    expect(ville.locator("#canned-list .card-title")).to_have_text(["Aukioloajat", "Tervehdys"])
    expect(aino.locator("#canned-select option")).to_have_text(["Valitse valmis vastaus", "Aukioloajat", "Tervehdys"])
    # An empty form is refused in the console, a too long text by the service; nothing is cut.
    ville.get_by_role("button", name="Tallenna").click()
    expect(ville.locator("#canned-form-error")).to_have_text("Kirjoita vastaukselle otsikko ja teksti.")
    ville.get_by_label("Otsikko").fill("Liian pitkä")
    ville.get_by_label("Teksti asiakkaalle").fill("a" * 2001)
    ville.get_by_role("button", name="Tallenna").click()
    expect(ville.locator("#canned-form-error")).to_have_text("Viesti on liian pitkä.")
    expect(ville.get_by_label("Teksti asiakkaalle")).to_have_value("a" * 2001)
    ville.get_by_label("Teksti asiakkaalle").fill("")
    ville.get_by_label("Otsikko").fill("")
    no_serious_violations(ville)

    # Aino answers a visitor with the "/" search in the reply box.
    conversation_id = in_a_thread(waiting_visitor(service))
    aino.locator(".queue-item").get_by_role("button", name="Ota käsittelyyn").click()
    box = aino.locator("#reply-input")
    expect(box).to_be_focused()
    listbox = aino.get_by_role("listbox", name="Valmiit vastaukset")
    box.press_sequentially("Hei /auki")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_text([re.compile(r"^Aukioloajat\s*Palvelemme arkisin kello 8–16\.$")])
    option_id = listbox.get_by_role("option").first.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", option_id)
    expect(aino.locator("#announcer")).to_contain_text("1 valmis vastaus.")
    no_serious_violations(aino)
    box.press("Enter")  # inserts: nothing is sent
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Hei Palvelemme arkisin kello 8–16.")
    expect(box).not_to_have_attribute("aria-activedescendant", option_id)

    box.press_sequentially(" /")  # every reply, title order; the arrow keys move
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(listbox.get_by_role("option").nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", listbox.get_by_role("option").nth(1).get_attribute("id"))
    box.press("Escape")  # closes; typing on does not open it again, a new "/" does
    expect(listbox).to_be_hidden()
    box.press_sequentially("ter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Hei Palvelemme arkisin kello 8–16. /ter")
    for _ in " /ter":
        box.press("Backspace")
    box.press_sequentially(" /olen ville")  # words of the text, not only of the title
    ville_hello = re.compile(r"^Tervehdys\s*Hei! Olen Ville\. Miten voin auttaa\?$")
    expect(listbox.get_by_role("option")).to_have_text([ville_hello])
    listbox.get_by_role("option").first.click()
    expect(box).to_have_value("Hei Palvelemme arkisin kello 8–16. Hei! Olen Ville. Miten voin auttaa?")
    expect(box).to_be_focused()
    box.press_sequentially(" /xyz")
    expect(aino.locator("#canned-suggestions-empty")).to_have_text("Ei osumia valmiista vastauksista.")
    box.press("Enter")  # with no match, Enter sends nothing
    expect(aino.locator("#conversation-log")).not_to_contain_text("/xyz")
    box.press("Escape")
    box.fill("Katso https://lumo.example/ohjeet ja/tai soita")  # slashes inside words open nothing
    expect(listbox).to_be_hidden()

    # A supervisor deletes a reply: Aino's picker and search lose it at once.
    ville.locator("#canned-list li").filter(has_text="Aukioloajat").get_by_role("button", name="Poista").click()
    expect(ville.locator("#canned-list .card-title")).to_have_text(["Tervehdys"])
    expect(aino.locator("#canned-select option")).to_have_text(["Valitse valmis vastaus", "Tervehdys"])
    box.fill("")
    box.press_sequentially("/")
    expect(listbox.get_by_role("option")).to_have_text([re.compile(r"^Tervehdys")])
    assert conversation_id

    phone = console(browser, service, "ville", viewport=PHONE, online=False)
    phone.get_by_role("button", name="Valmiit vastaukset").click()
    expect(phone.locator("#canned-list .card-title")).to_have_text(["Tervehdys"])
    no_serious_violations(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for page in (ville, aino, phone):
        page.context.close()


@pytest.mark.parametrize("service_env", [{}])
def test_note_mode_ends_when_the_note_is_saved(service, browser):  # noqa: F811
    aino = console(browser, service, "aino")
    conversation_id = in_a_thread(waiting_visitor(service))
    # The topics by the titles editors gave them, not as ids ("faq/login, request_human").
    card = aino.locator(".queue-item")
    expect(card).to_contain_text("Aiheet: Kirjautuminen, asiakaspalvelijan pyyntö")
    expect(card).not_to_contain_text("faq/login")
    card.get_by_role("button", name="Ota käsittelyyn").click()
    expect(aino.locator("#conversation-brief")).to_contain_text("AiheetKirjautuminen, asiakaspalvelijan pyyntö")
    toggle = aino.get_by_role("button", name="Lisää muistiinpano")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    box = aino.get_by_label("Sisäinen muistiinpano (ei näy asiakkaalle)")
    expect(box).to_be_focused()
    box.fill("Asiakas odottaa päätöstä, tarkista liitteet.")
    box.press("Enter")
    log = aino.locator("#conversation-log")
    expect(log.locator(".msg--note")).to_contain_text("Asiakas odottaa päätöstä, tarkista liitteet.")
    # Back to replying: the button, the label and the send button say so, and it is announced.
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(aino.locator("#reply-label")).to_have_text("Vastaus asiakkaalle")
    expect(aino.locator("#reply-send")).to_have_text("Lähetä")
    expect(aino.locator("#announcer")).to_have_text("Muistiinpano tallennettu. Seuraava viesti menee asiakkaalle.")
    expect(aino.locator("#reply-form")).not_to_have_class(re.compile("reply--note"))
    reply = aino.get_by_label("Vastaus asiakkaalle")
    expect(reply).to_be_focused()
    reply.fill("Hei, katson asiaasi heti.")
    reply.press("Enter")
    expect(log.locator(".msg--agent")).to_contain_text("Hei, katson asiaasi heti.")

    async def kinds(agent: Agent) -> list:
        detail = await (await agent.call("GET", f"/conversations/{conversation_id}")).json()
        return [(m["kind"], m["text"]) for m in detail["messages"] if m["sender"] == "agent"]

    assert in_a_thread(as_agent(service, "ville", kinds)) == [("note", "Asiakas odottaa päätöstä, tarkista liitteet."),
                                                       ("text", "Hei, katson asiaasi heti.")]
    aino.context.close()


@pytest.mark.parametrize("service_env", [{}])
def test_a_transferred_chat_is_marked_and_its_open_question_highlighted(service, browser):  # noqa: F811
    aino = console(browser, service, "aino")
    ville = console(browser, service, "ville", viewport=PHONE)
    token = in_a_thread(waiting_session(service))
    aino.locator(".queue-item").get_by_role("button", name="Ota käsittelyyn").click()
    box = aino.get_by_label("Vastaus asiakkaalle")
    box.fill("Hei, Aino täällä. Miten voin auttaa?")
    box.press("Enter")
    log = aino.locator("#conversation-log")
    expect(log.locator(".msg--agent")).to_have_count(1)
    expect(log.locator(".msg--unanswered")).to_have_count(0)  # everything answered
    in_a_thread(visitor_says(service, token, "Milloin rahani tulevat?"))
    unanswered = log.locator(".msg--unanswered")
    expect(unanswered).to_contain_text("Odottaa vastausta")
    expect(unanswered).to_contain_text("Milloin rahani tulevat?")
    expect(aino.locator("#mine-list")).to_contain_text("Vastaamatta: Milloin rahani tulevat?")

    aino.locator("#transfer-select").select_option(label="Ville")
    aino.get_by_role("button", name="Siirrä", exact=True).click()
    expect(aino.locator("#announcer")).to_have_text("Keskustelu siirretty: Ville.")

    # Ville (on a phone) is told, and his list says who transferred it and what waits for an answer.
    mine = ville.locator("#mine-list li")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(re.compile(r"Siirretty klo \d{2}\.\d{2} – siirtäjä: Aino, vastaanottaja: Ville"))
    expect(mine).to_contain_text("Vastaamatta: Milloin rahani tulevat?")
    no_serious_violations(ville)
    mine.get_by_role("button").click()
    expect(ville.locator("#conversation-brief")).to_contain_text("siirtäjä: Aino, vastaanottaja: Ville")
    ville_log = ville.locator("#conversation-log")
    flagged = ville_log.locator(".msg--unanswered")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Odottaa vastausta")
    expect(flagged).to_contain_text("Milloin rahani tulevat?")
    no_serious_violations(ville)
    assert ville.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    reply = ville.get_by_label("Vastaus asiakkaalle")
    reply.fill("Maksu lähtee tilillesi 15. päivä.")
    reply.press("Enter")
    expect(ville_log.locator(".msg--unanswered")).to_have_count(0)
    expect(mine).not_to_contain_text("Vastaamatta")
    in_a_thread(visitor_says(service, token, "Kiitos! Entä ensi kuussa?"))
    expect(ville_log.locator(".msg--unanswered")).to_contain_text("Kiitos! Entä ensi kuussa?")
    expect(ville_log.locator(".unanswered-flag")).to_have_count(1)  # only the newest question
    expect(mine).to_contain_text("Vastaamatta: Kiitos! Entä ensi kuussa?")

    # Ville leaves: the chat goes back to the queue, and Aino sees whose it was.
    ville.locator("#presence").select_option("offline")
    card = aino.locator(".queue-item")
    expect(card).to_contain_text(re.compile(r"Palautettu jonoon klo \d{2}\.\d{2} – edellinen käsittelijä: Ville"))
    expect(card).to_contain_text("Vastaamatta: Kiitos! Entä ensi kuussa?")
    no_serious_violations(aino)
    for page in (aino, ville):
        page.context.close()


async def left_contact_request(service, auth_token: Any = None) -> str:
    """Nobody online: the visitor (logged in with ``auth_token``) leaves a contact request; its conversation."""
    visitor = Visitor(service)
    await visitor.connect(auth_token=auth_token)
    await visitor.say("haluan puhua ihmisen kanssa", auth_token=auth_token)
    await visitor.wait_for("status", lambda d: d.get("offer_contact_request"))
    await visitor.client.emit("contact_request", {"name": "Maija Meikäläinen", "contact": "040 123 4567",
                                                  "message": "Soittakaa minulle päätöksestä"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kiitos! Yhteydenottopyyntösi"))
    await visitor.close()
    return visitor.token.split(".")[0]


@pytest.mark.parametrize("service_env", [{}])
def test_contact_requests_show_date_and_time_the_verified_customer_and_link_to_the_chat(service, browser):  # noqa: F811
    in_a_thread(left_contact_request(service, make_token("LUMO-1004")))
    in_a_thread(left_contact_request(service))
    aino = console(browser, service, "aino", online=False)
    aino.get_by_role("button", name=re.compile("^Yhteydenottopyynnöt")).click()
    cards = aino.locator("#tickets-list li")
    expect(cards).to_have_count(2)
    verified, anonymous = cards.nth(1), cards.nth(0)  # newest first
    when = re.compile(r"Jätetty\s*\d{1,2}\.\d{1,2}\.\d{4} klo \d{2}\.\d{2}")  # "5.12.2026 klo 14.05"
    expect(verified).to_contain_text(when)
    expect(verified).to_contain_text("AsiakasnumeroLUMO-1004 (tunnistettu)")
    expect(anonymous).to_contain_text(when)
    expect(anonymous).not_to_contain_text("Asiakasnumero")
    no_serious_violations(aino)

    link = verified.get_by_role("link", name="Avaa keskustelu")
    link.click()
    expect(aino.locator("#chats-view")).to_be_visible()
    expect(aino.locator("#conversation-title")).to_be_focused()
    expect(aino.locator("#conversation-log")).to_contain_text("haluan puhua ihmisen kanssa")
    expect(aino.locator("#conversation-brief")).to_contain_text("Botilla")
    expect(aino.locator("#reply-input")).to_be_disabled()  # to read, not to answer in
    # The link is an address: a new tab opens the same conversation.
    address = aino.url
    assert "#conversation=" in address
    other = aino.context.new_page()
    other.goto(address)
    expect(other.locator("#conversation-log")).to_contain_text("haluan puhua ihmisen kanssa")
    phone = console(browser, service, "aino", viewport=PHONE, online=False)
    phone.get_by_role("button", name=re.compile("^Yhteydenottopyynnöt")).click()
    expect(phone.locator("#tickets-list li")).to_have_count(2)
    no_serious_violations(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for page in (aino, phone):
        page.context.close()


@pytest.mark.parametrize("service_env", [{}])
def test_an_agents_answer_in_a_closed_chat_reaches_the_editors_list(service, browser):  # noqa: F811
    aino = console(browser, service, "aino")
    token = in_a_thread(waiting_session(service))
    aino.locator(".queue-item").get_by_role("button", name="Ota käsittelyyn").click()
    box = aino.get_by_label("Vastaus asiakkaalle")
    box.fill("Hei, olen Aino. Miten voin auttaa?")
    box.press("Enter")
    in_a_thread(visitor_says(service, token, "Saako toimistolle tuoda koiran?"))
    expect(aino.locator("#conversation-log .msg--unanswered")).to_contain_text("Saako toimistolle tuoda koiran?")
    box.fill("Avustajakoirat ovat tervetulleita, muut lemmikit eivät.")
    box.press("Enter")
    expect(aino.locator("#conversation-log .msg--agent")).to_have_count(2)
    aino.get_by_role("button", name="Sulje keskustelu").click()
    expect(aino.locator("#announcer")).to_have_text("Keskustelu suljettu.")
    in_a_thread(visitor_says(service, token, "kiitos"))  # the visitor writes on: the chat is the bot's again

    editor = content_editor(browser, service)
    editor.get_by_role("button", name=re.compile("^Mitä botti ei ymmärtänyt")).click()
    answers = editor.locator("#answered-list li")
    card = answers.filter(has_text="Saako toimistolle tuoda koiran?")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Avustajakoirat ovat tervetulleita, muut lemmikit eivät.")
    expect(card).to_contain_text("Päättyi")
    no_serious_violations(editor)
    card.get_by_role("button").click()  # the editor starts a draft topic from it
    expect(editor.locator("#new-topic-answer")).to_have_value("Avustajakoirat ovat tervetulleita, muut lemmikit eivät.")
    for page in (aino, editor):
        page.context.close()
