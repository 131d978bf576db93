"""A stand-in for the Rasa server at its HTTP boundary, for the live-agent service's tests.

Behaves like Rasa's REST channel and tracker API for the few things the service uses:
- "haluan puhua ihmisen kanssa" -> the handoff text + handoff signal, and the conversation pauses; the
  signal's reason is visitor_request, or what follows "syy:" in the text ("ihmisen syy:action_failed");
- while paused, messages are recorded and answered with [] (like Rasa);
- "hiljaa" -> sleeps longer than the service's timeout (Rasa silent);
- "mietippä hetki" -> answers after a second (a slow answer);
- "tyhjä vastaus" -> [] although not paused (what Rasa answers when a custom action failed);
- anything else -> "Botti: <text>" with a quick-reply button;
- every bot message carries ``lumo_answer`` as rasa_runtime/answer_labels.py adds it: the label of the
  message it answers (as the tracker below parses it) and the model id "fake-model-1";
- POST /conversations/<id>/tracker/events records events; {"event": "resume"} un-pauses.
GET /conversations/<id>/tracker returns Rasa-shaped events: a text with "pysäk"/"pysak" is not
understood (nlu_fallback), "ihmisen" is request_human followed by action_escalate, a text starting
"how " or "hur " is English or Swedish (other_language, with the parse data's language as
components/other_language.py writes it), a text of emoji only is not understood, "aukiolo" is
faq/opening_hours, anything else is faq/login with confidence 0.95 ("epävarma" in it: 0.6).
POST /model/parse reads a text the same way, with a FAQ topic ranking (``model_parse``; "parse-virhe" in
it: 500), GET /domain has the FAQ answers (``ANSWERS``). PUT /model records the model file. DELETE
/conversations/<id>/tracker deletes the conversation (erasure and retention, as rasa_runtime/erasure.py
does); PUT /conversations/<id>/tracker/events replaces the tracker's events. With FAKE_RASA_APPEND_ONLY=1
in its environment it is a Rasa whose tracker store can neither delete nor replace (Mongo; SQL without
rasa_runtime): DELETE answers 501 and PUT keeps the events. GET /_log returns what was received
("erased": deleted conversations, "replaced": PUT ones). Requests to the HTTP API (tracker, model, parse,
domain) must carry a Bearer JWT.

In the tests it runs in the test's own event loop (``await serve(port, secret)``); as a process:
python tests/liveagent/fake_rasa.py PORT JWT_SECRET
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict

import jwt
from aiohttp import web

HANDOFF_TEXT = "Siirrän keskustelun asiakaspalvelijalle."
MODEL_ID = "fake-model-1"
ANSWER_KEY = "lumo_answer"  # lumo_shared.answers.ANSWER_KEY (this file also runs as a script, without the repo)


def answer_label(parsed: dict) -> dict:
    """What rasa_runtime/answer_labels.py adds to each bot message of a turn."""
    intent = parsed["intent"]["name"]
    selector = ((parsed.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    topic = selector.get("intent_response_key") if intent == "faq" else intent
    return {ANSWER_KEY: {"topic": topic or intent, "model_id": MODEL_ID}}
LOG = web.AppKey("log", Callable[[], Dict[str, Any]])  # what GET /_log answers


def parse(text: str) -> dict:
    lowered = text.lower()
    if "pysäk" in lowered or "pysak" in lowered:
        return {"intent": {"name": "nlu_fallback", "confidence": 0.55},
                "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.55},
                                   {"name": "faq", "confidence": 0.31}],
                "response_selector": {"faq": {"response": {"intent_response_key": "faq/contact",
                                                           "confidence": 0.4}, "ranking": []}}}
    if "ihmisen" in lowered:
        return {"intent": {"name": "request_human", "confidence": 0.99},
                "intent_ranking": [{"name": "request_human", "confidence": 0.99}]}
    for start, language in (("how ", "en"), ("hur ", "sv")):
        if lowered.startswith(start):
            return {"intent": {"name": "other_language", "confidence": 0.97},
                    "intent_ranking": [{"name": "other_language", "confidence": 0.97}],
                    "language": {"name": language, "confidence": 0.9}}
    if text.strip() and not any(char.isalnum() for char in text):
        return {"intent": {"name": "nlu_fallback", "confidence": 0.55},
                "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.55},
                                   {"name": "out_of_scope", "confidence": 0.3}],
                "language": {"name": None, "confidence": 0.0}}
    confidence = 0.6 if "epävarma" in lowered else 0.95
    topic = "faq/opening_hours" if "aukiolo" in lowered else "faq/login"
    return {"intent": {"name": "faq", "confidence": confidence},
            "intent_ranking": [{"name": "faq", "confidence": confidence}],
            "response_selector": {"faq": {"response": {"intent_response_key": topic,
                                                       "confidence": confidence}, "ranking": []}}}


# The FAQ answers of the fake model's domain (GET /domain), and the topic ranking POST /model/parse gives
# for a message read as a topic: the topic, then two others (normalised within the FAQ topics, as
# components/linear_classifier.py writes it).
ANSWERS = {
    "faq/login": "Kirjaudu asiointipalveluun pankkitunnuksilla tai mobiilivarmenteella.",
    "faq/login_problem": "Jos kirjautuminen ei onnistu, tyhjennä selaimen välimuisti ja yritä uudelleen.",
    "faq/contact": "Tavoitat asiakaspalvelun chatissa arkisin klo 8–16.",
    "faq/opening_hours": "Palvelemme arkisin klo 8–16.",
}
RUNNERS_UP = {"faq/login": ("faq/login_problem", "faq/contact"), "faq/opening_hours": ("faq/contact", "faq/login")}


def model_parse(text: str) -> dict:
    """POST /model/parse: the tracker's reading, with the FAQ topics ranked 0.8 / 0.15 / 0.05 within FAQ
    (a text with "parse-virhe" in it: Rasa answers 500)."""
    parsed = parse(text)
    selector = (parsed.get("response_selector") or {}).get("faq")
    if selector is not None:
        best = selector["response"]["intent_response_key"]
        others = RUNNERS_UP.get(best, ())
        shares = (0.8, 0.15, 0.05)[:1 + len(others)]
        selector["ranking"] = [{"intent_response_key": label, "confidence": share}
                               for label, share in zip((best, *others), shares, strict=True)]
        if not any(item["name"] == "faq" for item in parsed["intent_ranking"]):
            parsed["intent_ranking"].append({"name": "faq", "confidence": 0.3})
    return {"text": text, **parsed}


def make_app(jwt_secret: str) -> web.Application:
    paused: set = set()
    log = defaultdict(list)
    trackers = defaultdict(list)
    models: list = []
    erased: list = []
    replaced: list = []
    append_only = os.environ.get("FAKE_RASA_APPEND_ONLY") == "1"

    def authorized(request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), jwt_secret, algorithms=["HS256"])
            return claims["user"]["role"] == "admin"
        except Exception:  # noqa: BLE001
            return False

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        log[sender].append({"kind": "user", "text": text, "metadata": body.get("metadata") or {}})
        parsed = parse(text)
        trackers[sender].append({"event": "user", "text": text, "timestamp": time.time(),
                                 "parse_data": {"text": text, **parsed}})
        if parsed["intent"]["name"] == "request_human" and sender not in paused:
            trackers[sender].append({"event": "action", "name": "action_escalate", "timestamp": time.time()})
        if sender in paused:
            return web.json_response([])
        if text == "hiljaa":
            await asyncio.sleep(10)
        if text == "mietippä hetki":
            await asyncio.sleep(1)
        if text == "tyhjä vastaus":
            return web.json_response([])
        if "ihmisen" in text:
            paused.add(sender)
            reason = re.search(r"syy:(\w+)", text)
            return web.json_response([
                {"recipient_id": sender, "text": HANDOFF_TEXT, **answer_label(parsed)},
                {"recipient_id": sender, **answer_label(parsed), "custom": {"handoff": {
                    "version": 1, "reason": reason.group(1) if reason else "visitor_request", "conversation_id": sender,
                    "summary": {"intents": ["faq/login", "request_human"], "last_messages": [text],
                                "customer": {"verified": False}, "turns": 2}}}},
            ])
        return web.json_response([{"recipient_id": sender, "text": f"Botti: {text}",
                                   "buttons": [{"title": "Lisää", "payload": "/faq"}], **answer_label(parsed)}])

    async def tracker(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        sender = request.match_info["sender"]
        return web.json_response({"sender_id": sender, "events": trackers[sender]})

    async def load_model(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        models.append((await request.json())["model_file"])
        return web.Response(status=204)

    async def events(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        sender = request.match_info["sender"]
        for event in await request.json():
            log[sender].append({"kind": "event", "event": event})
            if event.get("event") == "resume":
                paused.discard(sender)
        return web.json_response({"sender_id": sender})

    async def replace_events(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        sender = request.match_info["sender"]
        events = await request.json()
        replaced.append(sender)
        if not append_only:
            trackers[sender] = list(events)
            log.pop(sender, None)
        return web.json_response({"sender_id": sender, "events": trackers[sender]})

    async def delete_tracker(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        if append_only:
            return web.json_response({"message": "Conversations cannot be deleted from the MongoTrackerStore"},
                                     status=501)
        sender = request.match_info["sender"]
        erased.append(sender)
        trackers.pop(sender, None)
        log.pop(sender, None)
        paused.discard(sender)
        return web.Response(status=204)

    async def model_parse_route(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        text = (await request.json())["text"]
        log["_parse"].append(text)
        if "parse-virhe" in text:
            return web.json_response({"error": "boom"}, status=500)
        return web.json_response(model_parse(text))

    async def domain(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        if not request.headers.get("Accept", "").endswith("json"):  # like Rasa: JSON or YAML only
            return web.json_response({"error": "Invalid Accept header"}, status=406)
        responses = {f"utter_{label}": [{"text": answer}, {"text": f"EN {answer}", "condition": [
            {"type": "slot", "name": "language", "value": "en"}]}] for label, answer in ANSWERS.items()}
        return web.json_response({"responses": responses})

    def received() -> Dict[str, Any]:
        return {"log": log, "paused": sorted(paused), "models": models, "erased": erased, "replaced": replaced}

    async def get_log(request: web.Request) -> web.Response:
        return web.json_response(received())

    app = web.Application()
    app[LOG] = received
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", events)
    app.router.add_put("/conversations/{sender}/tracker/events", replace_events)
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    app.router.add_delete("/conversations/{sender}/tracker", delete_tracker)
    app.router.add_put("/model", load_model)
    app.router.add_post("/model/parse", model_parse_route)
    app.router.add_get("/domain", domain)
    app.router.add_get("/_log", get_log)
    return app


@dataclass
class RunningFakeRasa:
    """The fake Rasa served in the current event loop."""

    app: web.Application
    runner: web.AppRunner

    def log(self) -> Dict[str, Any]:
        """What GET /_log would answer (read directly: the caller may be the loop that serves it)."""
        return json.loads(json.dumps(self.app[LOG]()))

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(port: int, jwt_secret: str) -> RunningFakeRasa:
    app = make_app(jwt_secret)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)  # a "hiljaa" answer is not awaited
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return RunningFakeRasa(app, runner)


if __name__ == "__main__":
    web.run_app(make_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), print=None)
