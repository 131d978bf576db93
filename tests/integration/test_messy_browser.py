"""The messages issue 15 quotes, typed into the real widget (chromium, the live-agent service, Rasa with the
trained model, the action server), on a desktop and on a phone: each gets the right kind of answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.test_browser_loop import browser, faq_answer, send  # noqa: F401 - fixture
from tests.integration.test_conversations import response_text
from tests.integration.test_messy_conversations import LONG_MESSAGE, UPSET
from tests.integration.test_other_languages import variation

pytestmark = pytest.mark.integration

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def open_chat(browser, url: str, device: dict, customer: str = ""):  # noqa: F811
    page = browser.new_context(**device).new_page()
    page.goto(url + "/")
    if customer:  # the demo site's login: the widget then sends the customer's verified identity
        page.locator("#demo-customer").select_option(customer)
        page.locator("#demo-login-form").get_by_role("button", name="Kirjaudu").click()
        expect(page.locator("#demo-logout")).to_be_visible()
    page.get_by_role("button", name="Avaa chat").click()
    return page


def answers(page):
    return page.get_by_role("log")


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_upset_and_lost_visitors_are_acknowledged_and_offered_a_person(full_stack, browser, device):  # noqa: F811
    lost = "mä en tajuu mitään"
    for message, acknowledgement in ((UPSET, "utter_acknowledge_upset"), (lost, "utter_acknowledge_lost")):
        page = open_chat(browser, full_stack.url, device)
        send(page, message)
        expect(answers(page)).to_contain_text(response_text(acknowledgement), timeout=30_000)
        # A person when one is online, else the contact form (whether an agent of another test is still
        # online depends on the order the shared stack's tests ran in).
        person = page.get_by_role("button", name="Kyllä, asiakaspalvelijalle")
        contact_form = page.get_by_role("button", name="Lähetä yhteydenottopyyntö")
        expect(person.or_(contact_form)).to_be_visible()
        if person.is_visible():
            expect(answers(page)).to_contain_text(response_text("utter_offer_person"))
        expect(answers(page)).not_to_contain_text(faq_answer("opening_hours")[:40])
        page.context.close()


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_two_questions_long_messages_callbacks_and_stories_get_the_right_answers(full_stack, browser, device):  # noqa: F811
    login_required = response_text("utter_login_required")[:40]
    for message, expected in (
        ("mihin aikaan olette auki ja milloin on seuraava maksupäivä?",
         [faq_answer("opening_hours"), faq_answer("payment_dates")]),
        (LONG_MESSAGE, [faq_answer("change_details")]),
        ("voitteko soittaa mulle", [faq_answer("appointment")]),
        ("mun kissa söi mun paperit", [faq_answer("attachments")]),
    ):
        page = open_chat(browser, full_stack.url, device)
        send(page, message)
        for answer in expected:
            expect(answers(page)).to_contain_text(answer[:60], timeout=30_000)
        expect(answers(page)).not_to_contain_text(login_required)
        if message == LONG_MESSAGE:  # the whole paste was sent, not a cut one
            expect(answers(page)).to_contain_text(LONG_MESSAGE[-60:])
        page.context.close()


def test_swedish_and_english_visitors_are_answered_in_their_language(full_stack, browser):  # noqa: F811
    for message, language in (("how do I log in", "en"), ("hur loggar jag in", "sv")):
        page = open_chat(browser, full_stack.url, PHONE)
        send(page, message)
        expect(answers(page)).to_contain_text(variation("utter_other_language", language)["text"][:60], timeout=30_000)
        expect(answers(page)).not_to_contain_text(response_text("utter_out_of_scope")[:40])
        page.context.close()


def test_a_logged_in_customer_asking_how_much_money_gets_their_own_payment(full_stack, browser):  # noqa: F811
    page = open_chat(browser, full_stack.url, DESKTOP, customer="LUMO-1003")
    send(page, "paljonko mä saan rahaa")
    expect(answers(page)).to_contain_text("412,50 €", timeout=30_000)
    page.context.close()
