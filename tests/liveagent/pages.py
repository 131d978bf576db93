"""The pages the browser tests open, as their users open them: logging in to the console or the editor,
the viewports, axe-core's verdict, and running the service's async clients beside sync Playwright."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, List, Optional

import aiohttp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.integration.test_browser_loop import serious
from tests.liveagent.conftest import DEMO_PASSWORD, Agent

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def in_a_thread(coroutine: Any) -> Any:
    """A coroutine in a thread of its own: the sync Playwright API keeps an event loop in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


async def as_agent(service: Any, username: str, *calls: tuple) -> List[int]:
    """``username`` logs in from a session of their own and makes ``calls`` ((method, path, body), ...) to
    the agent API; their statuses. (Run it with ``in_a_thread`` beside a page.)"""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": service.url}) as session:
        agent = Agent(service, session)
        assert (await agent.login(username)).status == 200
        return [(await agent.call(method, path, body)).status for method, path, body in calls]


def no_serious_violations(page: Page) -> None:
    found = serious(Axe().run(page))
    assert found == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in found]


def log_in(page: Page, username: str) -> None:
    """Fill the login form of the console or the editor (both share it) with a demo account."""
    page.get_by_label("Käyttäjätunnus").fill(username)
    page.get_by_label("Salasana").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Kirjaudu", exact=True).click()


def console(browser: Any, service: Any, username: str, viewport=DESKTOP, online: bool = True,
            init_script: Optional[str] = None) -> Page:
    """A console page logged in as ``username`` (online when asked, with the service knowing it).

    ``init_script`` runs in the page before its own scripts; notifications are then allowed too."""
    context = browser.new_context(viewport=viewport)
    if init_script:
        context.grant_permissions(["notifications"], origin=service.url)
        context.add_init_script(init_script)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the console's own confirmations
    page.goto(f"{service.url}/agent")
    log_in(page, username)
    expect(page.get_by_role("heading", name="Jono")).to_be_visible()
    if online:
        page.locator("#presence").select_option("online")
        expect(page.locator("#announcer")).to_have_text("Tilasi: Paikalla.")
    expect(page.locator("#connection-state")).to_have_text("")
    return page


def content_editor(browser: Any, service: Any, username: str = "eeva", viewport=DESKTOP) -> Page:
    """The content editor logged in as ``username``."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{service.url}/editor")
    log_in(page, username)
    return page
