"""Operators' metrics: what this replica exposes to Prometheus at ``GET /metrics`` (docs/deploy.md).

Every name starts with ``lumo_``. Two kinds of figures:

* **this replica's own**, counted as things happen: visitor connections open here, how long Rasa took
  to answer visitor messages, failed calls to Rasa, answers Rasa left empty, visitor Socket.IO events
  whose handler failed, HTTP responses by status. Sum them over the replicas.
* **the whole service's**, read from the database at each scrape: conversations by state, the queue's
  length and its oldest wait, agents by presence. Every replica reports the same value: take the max
  over the replicas, not the sum.

The metrics live in a registry of their own per app (not prometheus_client's global one), so several
apps in one process (the tests) do not share counters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from liveagent.store.schema import PRESENCES, STATES

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Rasa's answers take 5-60 ms for the NLU and up to 3.5 s with a custom action (docs/architecture.md);
# the service gives up after LIVEAGENT_RASA_TIMEOUT_SECONDS (10 s).
ANSWER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.5, 5.0, 10.0)
RASA_ERROR_KINDS = ("timeout", "unreachable", "status")


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.visitors_connected = Gauge(
            "lumo_visitors_connected", "Visitor Socket.IO connections open on this replica.", registry=r)
        self.conversations = Gauge(
            "lumo_conversations", "Conversations by state (the whole service, from the database).", ["state"],
            registry=r)
        self.queue_length = Gauge(
            "lumo_queue_length", "Conversations waiting in the queue for an agent (the whole service).", registry=r)
        self.queue_oldest_wait = Gauge(
            "lumo_queue_oldest_wait_seconds", "How long the longest-waiting visitor in the queue has waited; "
            "0 when nobody waits (the whole service).", registry=r)
        self.agents = Gauge(
            "lumo_agents", "Active agent accounts by presence (the whole service).", ["presence"], registry=r)
        self.agents_online = Gauge(
            "lumo_agents_online", "Agents online, who can take chats (the whole service).", registry=r)
        self.bot_answer = Histogram(
            "lumo_bot_answer_seconds", "How long Rasa took to answer a visitor message, on this replica "
            "(answers that failed are in lumo_rasa_errors_total).", buckets=ANSWER_BUCKETS, registry=r)
        self.rasa_errors = Counter(
            "lumo_rasa_errors", "Calls from this replica to Rasa that failed: timeout, unreachable (refused, "
            "dropped) or status (Rasa answered an error).", ["kind"], registry=r)
        self.bot_empty_answers = Counter(
            "lumo_bot_empty_answers", "Visitor messages Rasa answered with nothing, on this replica (a custom "
            "action failed; the visitor got an apology).", registry=r)
        self.socketio_errors = Counter(
            "lumo_socketio_errors", "Visitor Socket.IO events whose handler failed on this replica.", ["event"],
            registry=r)
        self.http_responses = Counter(
            "lumo_http_responses", "HTTP responses of this replica by status class (2xx, 3xx, 4xx, 5xx).",
            ["status_class"], registry=r)
        self.http_errors = Counter(
            "lumo_http_errors", "HTTP responses of this replica with a 5xx status.", ["status"], registry=r)
        for state in STATES:  # every series exists from the start, so absent() and rate() work at once
            self.conversations.labels(state)
        for presence in PRESENCES:
            self.agents.labels(presence)
        for kind in RASA_ERROR_KINDS:
            self.rasa_errors.labels(kind)
        for status_class in ("2xx", "3xx", "4xx", "5xx"):
            self.http_responses.labels(status_class)

    def rasa_failed(self, error: BaseException) -> None:
        """Counts a failed Rasa call by what went wrong (liveagent.rasa_client.RasaUnavailable)."""
        if getattr(error, "status", None) is not None:
            kind = "status"
        elif isinstance(error.__cause__, (TimeoutError, asyncio.TimeoutError)):
            kind = "timeout"
        else:
            kind = "unreachable"
        self.rasa_errors.labels(kind).inc()

    def responded(self, status: int) -> None:
        self.http_responses.labels(f"{status // 100}xx").inc()
        if status >= 500:
            self.http_errors.labels(str(status)).inc()

    async def refresh(self, store: Any, visitors_connected: int, now: dt.datetime) -> None:
        """The figures read at each scrape: the replica's open visitor connections and the database's."""
        live = await store.insights.live()
        self.visitors_connected.set(visitors_connected)
        for state in STATES:
            self.conversations.labels(state).set(live.states.get(state, 0))
        self.queue_length.set(live.states.get("waiting", 0))
        since = live.oldest_waiting_since
        self.queue_oldest_wait.set(max(0.0, (now - since).total_seconds()) if since is not None else 0.0)
        for presence in PRESENCES:
            self.agents.labels(presence).set(live.presences.get(presence, 0))
        self.agents_online.set(live.presences.get("online", 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
