"""The demo website's login and the chat in a real browser: a session belongs to the customer it was
bound to (docs/security.md). A logged-in customer's chat survives a reload (the widget waits for the
page's token before asking for its session); when another customer logs in on the same browser, the
service starts a fresh chat and the widget shows nothing of the previous one."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.integration.test_browser_loop import browser, faq_answer, send  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def login(page, customer_id: str) -> None:
    page.get_by_label("Demoasiakas").select_option(customer_id)
    page.get_by_role("button", name="Kirjaudu", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Olet kirjautunut")).to_contain_text(customer_id)


def conversation(page) -> str:
    stored = json.loads(page.evaluate("window.localStorage.getItem('lumo-chat')") or "{}")
    return (stored.get("token") or "").split(".")[0]


def open_chat(page) -> None:
    if page.get_by_role("button", name="Avaa chat").is_visible():
        page.get_by_role("button", name="Avaa chat").click()


def test_a_customers_chat_survives_reload_and_is_not_shown_to_the_next_customer(full_stack, browser):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto(full_stack.url + "/")
    login(page, "LUMO-1001")
    open_chat(page)
    send(page, "mikä on maksupäivä")
    log = page.get_by_role("log")
    expect(log).to_contain_text(faq_answer("payment_dates")[:60], timeout=20_000)
    chat = conversation(page)
    assert chat

    page.reload()  # the demo fetches the customer's token again; the widget waits for it
    open_chat(page)
    send(page, "Miten varaan ajan?")
    expect(page.get_by_role("log")).to_contain_text(faq_answer("appointment")[:60], timeout=20_000)
    assert conversation(page) == chat
    assert page.get_by_role("log").inner_text().count("mikä on maksupäivä") == 1

    login(page, "LUMO-1002")  # another customer on the same browser, without logging out first
    expect(page.get_by_role("log")).not_to_contain_text("mikä on maksupäivä", timeout=10_000)
    send(page, "Miten saan yhteyden Lumoon?")
    expect(page.get_by_role("log")).to_contain_text(faq_answer("contact")[:60], timeout=20_000)
    assert conversation(page) not in ("", chat)
    assert "Miten varaan ajan?" not in page.get_by_role("log").inner_text()
    context.close()
