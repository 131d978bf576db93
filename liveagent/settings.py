"""The only place the live-agent service reads its environment (see .env.example)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple
from urllib.parse import urlsplit

from lumo_shared.settings import (
    MIN_SECRET_CHARS,
    SEED_DEMO_ACCOUNTS,
    IdentitySettings,
    SettingsError,
    check_production_secret,
    demo_switch,
    read_environment,
)

ASSIGNMENT_MODES = ("auto", "manual")


@dataclass(frozen=True)
class ServiceHours:
    """Weekly human service hours (Europe/Helsinki); Finnish public holidays are closed."""

    weekdays: Tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(18, 0)
    timezone: str = "Europe/Helsinki"


@dataclass(frozen=True)
class Settings:
    """Settings of the live-agent service."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://localhost:8000"
    database_url: str = "sqlite+aiosqlite:///var/liveagent.sqlite"
    rasa_url: str = "http://127.0.0.1:5005"
    # Every Rasa replica the service may talk to (LIVEAGENT_RASA_URL, comma-separated); empty: rasa_url only.
    rasa_urls: Tuple[str, ...] = ()
    # Production: Redis shared by the replicas (Socket.IO and agent fan-out, shared limits, sweep lease).
    redis_url: str = ""
    # Longer than a turn whose action times out (RASA_ACTION_TIMEOUT_SECONDS + NLU): no answer dropped.
    rasa_timeout_seconds: float = 10.0
    allowed_origins: Tuple[str, ...] = ("http://localhost:8000", "http://127.0.0.1:8000")
    # The console's own pages (login Origin, agent websocket), not the widget's websites.
    # Empty: the origin of public_url (LIVEAGENT_CONSOLE_ORIGINS, comma-separated).
    console_origins: Tuple[str, ...] = ()
    session_secret: str = ""
    # LUMO_ENV (lumo_shared/settings.py): demo conveniences below exist only in demo; missing means production
    environment: str = "production"
    # The website's identity tokens, read exactly as the action server reads them; its customer_id_key
    # signs the verified customer id forwarded to Rasa (the raw identity JWT never goes there).
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    rasa_jwt_secret: str = ""
    demo_token_endpoint: bool = False  # demo only: /demo/token signs identity tokens for demo customers
    insecure_cookies: bool = False  # demo only (plain http on a laptop): cookies without Secure
    service_hours: ServiceHours = ServiceHours()
    always_open: bool = False
    queue_capacity: int = 20
    average_handling_minutes: float = 4.0
    # "the bot is typing" only for answers slower than this (a fast answer would just flicker it)
    typing_indicator_delay_seconds: float = 0.4
    unanswered_requeue_seconds: int = 300
    auto_away_seconds: int = 600
    # automatic assignment (docs/agent-api.md): "auto" gives waiting chats to online agents with room,
    # "manual" leaves them in the queue for agents to claim
    assignment: str = "auto"
    # an assigned agent who has not written to the visitor within this many seconds loses the chat
    # to the next agent with room (or it goes back to the queue); 0: no limit
    response_limit_seconds: float = 90.0
    misses_before_away: int = 2  # response-time limits missed in a row that set the agent away
    # the queue's order: points per handoff reason and for a verified customer (liveagent/priorities.py)
    priorities_file: str = str(Path(__file__).resolve().with_name("queue_priorities.yml"))
    sweep_seconds: float = 15.0
    max_message_chars: int = 2000  # visitor and agent messages; the widget gets it in session_confirm
    max_comment_chars: int = 1000  # the comment with an end-of-chat rating; the widget gets it too
    request_max_bytes: int = 64 * 1024
    demo_password: str = ""  # demo only: the demo agents are created with it
    # content editing: the project whose data/ and models/ the editor changes and publishes
    content_root: str = str(Path(__file__).resolve().parent.parent)
    # Several replicas: only the content replica edits and publishes (docs/deploy.md)
    content_replica: bool = True
    harvest_idle_seconds: float = 60.0  # a conversation quiet this long has its missed messages collected
    # security (docs/security.md): proxies whose X-Forwarded-For is believed; limits per client address
    trusted_proxies: Tuple[str, ...] = ()
    limit_window_seconds: float = 60.0
    limit_connections: int = 60  # Socket.IO connections per address and window (0: no limit)
    limit_messages: int = 300  # visitor messages per address and window (0: no limit)
    limit_logins: int = 20  # POST /api/agent/login per address and window (0: no limit)
    limit_session_requests: int = 120  # visitor session_request events per address and window (0: no limit)
    limit_contact_requests: int = 10  # visitor contact requests per address and window (0: no limit)
    limit_visitor_events: int = 600  # visitor typing, rating and cancel events per address and window (0: no limit)
    max_sockets_per_address: int = 30  # open Socket.IO connections per address, per replica (0: no cap)
    visitor_session_hours: float = 24.0  # a visitor session token is renewed at each connection and expires after
    retention_days: int = 365  # conversations closed or idle longer than this are deleted
    audit_retention_days: int = 730  # audit entries (they hold client addresses) older than this are deleted
    # agent sessions (docs/security.md): ended by logout, password/role change, deactivation, idleness, age
    session_idle_minutes: float = 30.0
    session_max_hours: float = 10.0
    session_check_seconds: float = 5.0  # how often open agent sockets are checked against their session
    # operators' metrics (GET /metrics, docs/deploy.md): the bearer token Prometheus sends; empty: metrics off
    metrics_token: str = ""

    def __post_init__(self) -> None:
        if not self.console_origins:
            object.__setattr__(self, "console_origins", (origin_of(self.public_url),))

    @property
    def demo(self) -> bool:
        """LUMO_ENV=demo: the only mode with demo tokens, demo agents and cookies without Secure."""
        return self.environment == "demo"

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        secret = env.get("LIVEAGENT_SECRET", "")
        if len(secret) < MIN_SECRET_CHARS:
            raise SettingsError("LIVEAGENT_SECRET must be set to at least 32 random characters (make run writes one)")
        environment = read_environment(env)
        # the website's identity tokens are read exactly as the action server reads them
        identity = IdentitySettings.from_env(env, environment)
        production = environment == "production"
        if production:
            check_production_secret("LIVEAGENT_SECRET", secret, "(the same value on every replica)")
            check_production_secret("RASA_JWT_SECRET", env.get("RASA_JWT_SECRET", ""),
                                    "(the same value for the Rasa server)")
            if env.get("LIVEAGENT_DEMO_PASSWORD"):
                raise SettingsError("LUMO_ENV=production: LIVEAGENT_DEMO_PASSWORD creates demo agents; remove "
                                    "it and add agents with `python -m liveagent create-agent`")
        metrics_token = env.get("LIVEAGENT_METRICS_TOKEN", "").strip()
        if production and metrics_token:  # unset is allowed: no metrics
            check_production_secret("LIVEAGENT_METRICS_TOKEN", metrics_token, "(the bearer token Prometheus sends)")
        demo_tokens = demo_switch(env, "LIVEAGENT_DEMO_TOKENS", environment)
        insecure_cookies = demo_switch(env, "LIVEAGENT_INSECURE_COOKIES", environment)
        demo_switch(env, SEED_DEMO_ACCOUNTS, environment)  # the action server's, but production refuses it everywhere
        raw_origins = env.get("LIVEAGENT_ALLOWED_ORIGINS", ",".join(cls.allowed_origins))
        origins = tuple(o.strip() for o in raw_origins.split(",") if o.strip())
        public_url = env.get("LIVEAGENT_PUBLIC_URL", cls.public_url)
        console_name = "LIVEAGENT_CONSOLE_ORIGINS" if env.get("LIVEAGENT_CONSOLE_ORIGINS") else "LIVEAGENT_PUBLIC_URL"
        raw_console = env.get("LIVEAGENT_CONSOLE_ORIGINS") or public_url
        console_origins = tuple(origin_of(o, console_name) for o in raw_console.split(",") if o.strip())
        raw_rasa = env.get("LIVEAGENT_RASA_URL", cls.rasa_url)
        rasa_urls = tuple(u.strip().rstrip("/") for u in raw_rasa.split(",") if u.strip()) or (cls.rasa_url,)
        try:
            return cls(
                host=env.get("LIVEAGENT_HOST", cls.host),
                port=int(env.get("LIVEAGENT_PORT", cls.port)),
                public_url=public_url,
                database_url=env.get("LIVEAGENT_DATABASE_URL", cls.database_url),
                rasa_url=rasa_urls[0],
                rasa_urls=rasa_urls,
                redis_url=env.get("LIVEAGENT_REDIS_URL", "").strip(),
                rasa_jwt_secret=env.get("RASA_JWT_SECRET", ""),
                rasa_timeout_seconds=float(env.get("LIVEAGENT_RASA_TIMEOUT_SECONDS", cls.rasa_timeout_seconds)),
                allowed_origins=origins,
                console_origins=console_origins,
                session_secret=secret,
                environment=environment,
                identity=identity,
                demo_token_endpoint=demo_tokens,
                insecure_cookies=insecure_cookies,
                always_open=env.get("LIVEAGENT_ALWAYS_OPEN", "0") in ("1", "true"),
                queue_capacity=int(env.get("LIVEAGENT_QUEUE_CAPACITY", cls.queue_capacity)),
                unanswered_requeue_seconds=int(
                    env.get("LIVEAGENT_UNANSWERED_REQUEUE_SECONDS", cls.unanswered_requeue_seconds)
                ),
                auto_away_seconds=int(env.get("LIVEAGENT_AUTO_AWAY_SECONDS", cls.auto_away_seconds)),
                assignment=_one_of("LIVEAGENT_ASSIGNMENT", env.get("LIVEAGENT_ASSIGNMENT", cls.assignment),
                                   ASSIGNMENT_MODES),
                response_limit_seconds=_at_least_zero("LIVEAGENT_RESPONSE_LIMIT_SECONDS", env,
                                                      cls.response_limit_seconds),
                misses_before_away=_at_least_one("LIVEAGENT_MISSES_BEFORE_AWAY",
                                                 env.get("LIVEAGENT_MISSES_BEFORE_AWAY"), cls.misses_before_away),
                priorities_file=env.get("LIVEAGENT_PRIORITIES_FILE") or cls.priorities_file,
                sweep_seconds=float(env.get("LIVEAGENT_SWEEP_SECONDS", cls.sweep_seconds)),
                service_hours=_hours(env),
                demo_password=env.get("LIVEAGENT_DEMO_PASSWORD", "") if not production else "",
                content_root=env.get("LIVEAGENT_CONTENT_ROOT", cls.content_root),
                content_replica=env.get("LIVEAGENT_CONTENT_REPLICA", "1") not in ("0", "false"),
                harvest_idle_seconds=float(env.get("LIVEAGENT_HARVEST_IDLE_SECONDS", cls.harvest_idle_seconds)),
                trusted_proxies=_proxies(env.get("LIVEAGENT_TRUSTED_PROXIES", "")),
                limit_window_seconds=float(env.get("LIVEAGENT_LIMIT_WINDOW_SECONDS", cls.limit_window_seconds)),
                limit_connections=int(env.get("LIVEAGENT_LIMIT_CONNECTIONS", cls.limit_connections)),
                limit_messages=int(env.get("LIVEAGENT_LIMIT_MESSAGES", cls.limit_messages)),
                limit_logins=int(env.get("LIVEAGENT_LIMIT_LOGINS", cls.limit_logins)),
                limit_session_requests=int(env.get("LIVEAGENT_LIMIT_SESSION_REQUESTS", cls.limit_session_requests)),
                limit_contact_requests=int(env.get("LIVEAGENT_LIMIT_CONTACT_REQUESTS", cls.limit_contact_requests)),
                limit_visitor_events=int(env.get("LIVEAGENT_LIMIT_VISITOR_EVENTS", cls.limit_visitor_events)),
                max_sockets_per_address=int(env.get("LIVEAGENT_MAX_SOCKETS_PER_ADDRESS", cls.max_sockets_per_address)),
                visitor_session_hours=_positive("LIVEAGENT_VISITOR_SESSION_HOURS", env, cls.visitor_session_hours),
                retention_days=_at_least_one("LIVEAGENT_RETENTION_DAYS", env.get("LIVEAGENT_RETENTION_DAYS"),
                                             cls.retention_days),
                audit_retention_days=_at_least_one("LIVEAGENT_AUDIT_RETENTION_DAYS",
                                                   env.get("LIVEAGENT_AUDIT_RETENTION_DAYS"), cls.audit_retention_days),
                session_idle_minutes=_positive("LIVEAGENT_SESSION_IDLE_MINUTES", env, cls.session_idle_minutes),
                session_max_hours=_positive("LIVEAGENT_SESSION_MAX_HOURS", env, cls.session_max_hours),
                session_check_seconds=_positive("LIVEAGENT_SESSION_CHECK_SECONDS", env, cls.session_check_seconds),
                metrics_token=metrics_token,
                max_message_chars=_at_least_one("LIVEAGENT_MAX_MESSAGE_CHARS", env.get("LIVEAGENT_MAX_MESSAGE_CHARS"),
                                                cls.max_message_chars),
                max_comment_chars=_at_least_one("LIVEAGENT_MAX_COMMENT_CHARS", env.get("LIVEAGENT_MAX_COMMENT_CHARS"),
                                                cls.max_comment_chars),
            )
        except ValueError as error:
            raise SettingsError(f"invalid live-agent setting: {error}") from error


def origin_of(url: str, name: str = "LIVEAGENT_PUBLIC_URL") -> str:
    """``scheme://host[:port]`` of ``url`` as a browser sends it in ``Origin`` (no path, no default port)."""
    parts = urlsplit(url.strip())
    try:
        given_port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        given_port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or given_port == -1:
        raise SettingsError(f"{name}: {url.strip()!r} is not an http(s) URL such as https://chat.example.com")
    default_port = 443 if parts.scheme == "https" else 80
    port = f":{given_port}" if given_port and given_port != default_port else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{port}"


def _proxies(raw: str) -> Tuple[str, ...]:
    """LIVEAGENT_TRUSTED_PROXIES="10.0.0.5, 10.1.0.0/16": addresses or networks, checked here."""
    proxies = tuple(p.strip() for p in raw.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as error:
            raise SettingsError(f"LIVEAGENT_TRUSTED_PROXIES: {proxy!r} is not an address or network") from error
    return proxies


def _one_of(name: str, raw: str, allowed: Tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return value


def _at_least_zero(name: str, env: Mapping[str, str], default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not value >= 0:
        raise SettingsError(f"{name} must be 0 or more")
    return value


def _positive(name: str, env: Mapping[str, str], default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not value > 0:
        raise SettingsError(f"{name} must be a positive number")
    return value


def _at_least_one(name: str, raw: Optional[str], default: int) -> int:
    value = int(raw) if raw is not None else default
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value


def _hours(env: Mapping[str, str]) -> ServiceHours:
    """LIVEAGENT_SERVICE_HOURS="mon-fri 08:00-18:00"."""
    raw = env.get("LIVEAGENT_SERVICE_HOURS")
    if not raw:
        return ServiceHours()
    days, _, span = raw.strip().partition(" ")
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    first, _, last = days.lower().partition("-")
    start, end = names.index(first), names.index(last or first)
    opens, _, closes = span.partition("-")
    return ServiceHours(
        weekdays=tuple(range(start, end + 1)),
        opens=dt.time.fromisoformat(opens),
        closes=dt.time.fromisoformat(closes),
    )
