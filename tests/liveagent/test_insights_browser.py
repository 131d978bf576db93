"""The supervisors' insights view of the agent console (agent/insights.js) in Chromium: what ville sees matches
what happened, the charts have their tables, the CSV link downloads the daily series, only supervisors get the
view, and axe finds nothing serious, also at a phone's width."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from playwright.sync_api import expect

from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import DEMO_PASSWORD, Visitor
from tests.liveagent.pages import in_a_thread, log_in, no_serious_violations


async def chats(service: Any) -> None:
    """Two bot-only chats and one handed off, claimed by aino and closed. The visitors mark the bot's answers
    helpful ("moi") and not ("aukioloajat?"); "moi" ends the chat and rates the bot 2, the handed-off visitor
    rates aino's chat 5."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": service.url}) as http:
        login = await http.post(f"{service.url}/api/agent/login", json={"username": "aino", "password": DEMO_PASSWORD})
        csrf = (await login.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        assert (await http.put(f"{service.url}/api/agent/presence", json={"presence": "online"}, headers=headers)).ok
        for text in ("moi", "aukioloajat?", "haluan puhua ihmisen kanssa"):
            visitor = Visitor(service)
            await visitor.connect()
            await visitor.say(text)
            answer = await visitor.wait_for("bot_uttered", lambda d, text=text: d["sender"] != "visitor")
            if "ihmisen" not in text:
                await visitor.client.emit("answer_feedback", {"message_id": answer["id"], "helpful": text == "moi"})
                await visitor.wait_for("feedback_saved")
            if text == "moi":
                await visitor.client.emit("end_conversation", {})
                await visitor.wait_for("status", lambda d: d.get("ask_rating") is True)
                await visitor.client.emit("rating", {"score": 2})
                await visitor.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!")
            if "ihmisen" in text:
                await visitor.wait_for("status", lambda d: d["state"] == "waiting")
                conversation = visitor.token.split(".")[0]
                for action in ("claim", "close"):
                    response = await http.post(f"{service.url}/api/agent/conversations/{conversation}/{action}",
                                               headers=headers)
                    assert response.status == 200, await response.text()
                await visitor.wait_for("status", lambda d: d.get("ask_rating") is True)
                await visitor.client.emit("rating", {"score": 5})
                await visitor.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!")
            await visitor.close()


def console(browser: Any, service: Any, username: str, width: int = 1280) -> Any:  # noqa: F811
    page = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True).new_page()
    page.goto(f"{service.url}/agent")
    log_in(page, username)
    expect(page.locator("#me-name")).to_be_visible()
    return page


def test_a_supervisor_sees_what_happened_in_figures_charts_tables_and_csv(service, browser):  # noqa: F811
    in_a_thread(chats(service))
    today = dt.datetime.now(ZoneInfo("Europe/Helsinki")).date()

    aino = console(browser, service, "aino")
    expect(aino.get_by_role("heading", name="Jono")).to_be_visible()
    expect(aino.get_by_role("button", name="Tilastot")).to_be_hidden()  # agents do not get the view
    aino.context.close()

    page = console(browser, service, "ville")
    page.get_by_role("button", name="Tilastot").click()
    expect(page.get_by_role("heading", name="Tilastot")).to_be_visible()
    expect(page.locator("#insights-status")).to_contain_text("Tilastot")
    figures = page.locator(".insights-figure")
    expect(figures.filter(has_text="Keskustelut").locator(".insights-value")).to_have_text("3")
    expect(figures.filter(has_text="Botti hoiti").locator(".insights-value")).to_have_text("66,7 %")
    expect(figures.filter(has_text="Siirretty asiakaspalvelijalle").locator(".insights-value")).to_have_text("33,3 %")
    expect(figures.filter(has_text="Keskustelut").locator(".insights-previous")).to_have_text("edellinen jakso: 0")

    daily = page.get_by_role("table", name="Keskustelut päivittäin")
    expect(daily.locator("tbody tr")).to_have_count(30)  # the default: the last 30 days
    today_row = daily.locator("tbody tr").last
    expect(today_row.locator("th")).to_have_text(f"{today.day}.{today.month}.{today.year}")
    expect(today_row.locator("td").first).to_have_text("3")
    expect(page.get_by_role("img", name="Keskustelut päivittäin")).to_be_visible()
    reasons = page.get_by_role("table", name="Siirrot syyn mukaan")
    expect(reasons.locator("tbody tr")).to_have_count(1)
    expect(reasons.locator("tbody tr th")).to_have_text("Asiakas pyysi asiakaspalvelijaa")
    waits = page.get_by_role("table", name="Asiakaspalvelijalle päättyneet jonotukset pituuden mukaan")
    expect(waits.locator("tbody tr")).to_have_count(6)
    expect(figures.filter(has_text="Vastauksista apua").locator(".insights-value")).to_have_text("50\u00a0%")
    helpful = page.get_by_role("table", name="Botin vastausten palaute aiheittain")
    expect(helpful.locator("tbody tr")).to_have_count(2)  # faq/login ("moi") and faq/opening_hours
    cells = [[cell.strip() for cell in row.locator("th, td").all_inner_texts()]
             for row in helpful.locator("tbody tr").all()]
    assert sorted(cells) == sorted([["Kirjautuminen", "1", "1", "0", "100\u00a0%"],
                                    ["Aukioloajat", "1", "0", "1", "0\u00a0%"]]), cells
    expect(page.get_by_role("img", name="Oliko vastauksesta apua? Aiheittain")).to_be_visible()
    csat = page.get_by_role("table", name="Keskustelun lopun arviot sen mukaan, kuka palveli")
    expect(csat.locator("tbody tr").nth(0)).to_contain_text("Botti")
    expect(csat.locator("tbody tr").nth(0).locator("td").nth(0)).to_have_text("1")
    expect(csat.locator("tbody tr").nth(0).locator("td").nth(2)).to_have_text("0\u00a0%")
    expect(csat.locator("tbody tr").nth(1).locator("td").nth(2)).to_have_text("100\u00a0%")
    expect(page.get_by_role("img", name="Asiakastyytyväisyys: botti ja asiakaspalvelijat")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Lataa päivittäiset luvut (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == 30 and rows[-1]["date"] == today.isoformat()
    assert (rows[-1]["conversations"], rows[-1]["handed_off"], rows[-1]["contained"]) == ("3", "1", "2")

    page.get_by_label("Tänään").check()
    expect(daily.locator("tbody tr")).to_have_count(1)
    expect(figures.filter(has_text="Keskustelut").locator(".insights-value")).to_have_text("3")
    page.get_by_label("Alkaen").fill((today - dt.timedelta(days=1)).isoformat())
    expect(page.get_by_label("Muu jakso")).to_be_checked()  # days typed by hand are a period of their own
    page.get_by_role("button", name="Näytä", exact=True).click()
    expect(daily.locator("tbody tr")).to_have_count(2)

    no_serious_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    no_serious_violations(page)
    page.context.close()
