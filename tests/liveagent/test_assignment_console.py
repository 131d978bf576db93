"""Automatic assignment and the response-time limit in the agent console (chromium): the chat arrives in
"Omat keskustelut" without a claim, and when it goes unanswered the console says why it left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from liveagent import copy
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import escalated_and_gone
from tests.liveagent.pages import as_agent, in_a_thread, log_in, no_serious_violations


@pytest.fixture
def service_env():
    return {"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "0.2", "LIVEAGENT_RESPONSE_LIMIT_SECONDS": "3"}


def test_a_chat_arrives_without_a_claim_and_leaves_with_a_reason(service, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{service.url}/agent")
    log_in(page, "aino")
    page.locator("#presence").select_option("online")
    expect(page.locator("#mine-empty")).to_be_visible()

    conversation_id = in_a_thread(escalated_and_gone(service, "assigned"))
    mine = page.locator(f'#mine-list [data-focus-key="mine:{conversation_id}"]')
    expect(mine).to_be_visible()  # no claim: the service gave it to her
    expect(page.locator("#queue-empty")).to_be_visible()
    no_serious_violations(page)

    # nobody writes to the visitor within the limit: the chat goes back to the queue, and she is told why
    why = copy.text("notices.response_limit_requeued", seconds=3)
    expect(page.locator("#connection-state")).to_have_text(why, timeout=10_000)
    expect(mine).to_have_count(0)
    expect(page.locator(f'#queue-list [data-focus-key="claim:{conversation_id}"]')).to_be_visible()
    context.close()


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "0.2"}])
def test_a_chat_assigned_before_the_consoles_socket_opens_is_shown(service, browser):  # noqa: F811
    """The console loads its lists, then opens its socket: a chat assigned in between was told to no socket
    of hers, so the console loads the lists again once the socket is open."""
    assert in_a_thread(as_agent(service, "aino", ("PUT", "/presence", {"presence": "online"}))) == [200]
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    assigned = []

    def open_late(socket) -> None:
        # the lists are loaded; the chat is assigned now, before the socket reaches the service
        assigned.append(in_a_thread(escalated_and_gone(service, "assigned")))
        socket.connect_to_server()

    page.route_web_socket("**/api/agent/ws", open_late)
    page.goto(f"{service.url}/agent")
    log_in(page, "aino")
    expect(page.locator("#presence")).to_have_value("online")
    expect(page.locator("#mine-list .mine-button")).to_have_count(1)
    expect(page.locator(f'#mine-list [data-focus-key="mine:{assigned[0]}"]')).to_be_visible()
    page.context.close()
