"""The only place the action server reads its environment.

``LUMO_ENV`` is ``demo`` or ``production``; missing means production (fail closed). Demo conveniences
(re-seeding the fictional demo customers) exist only in demo. Production refuses to start with a
demo key (one `make run` generated: it starts with ``demo-``), a short secret or an empty audience
or issuer, with a message that says what to set. Secrets always come from the environment (the
Makefile writes random ones to `.env` on first run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

# Only asymmetric or HMAC-SHA2 algorithms; never "none".
ALLOWED_JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "EdDSA")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message tells the operator what to fix."""


ENVIRONMENTS = ("demo", "production")
# Every secret: at least this long in production (HMAC keys, signing secrets, bearer tokens).
MIN_SECRET_CHARS = 32
# `make run` (scripts/ensure_env.py) starts every secret it generates with this: a demo key.
DEMO_SECRET_PREFIX = "demo-"


def read_environment(env: Mapping[str, str]) -> str:
    """LUMO_ENV: ``demo`` or ``production``; missing or empty is production (fail closed)."""
    value = (env.get("LUMO_ENV") or "production").strip().lower()
    if value not in ENVIRONMENTS:
        raise SettingsError(f"LUMO_ENV={value!r} is not known; set LUMO_ENV=production (or demo for `make run`)")
    return value


def check_production_secret(name: str, value: str, what: str = "") -> None:
    """Production: ``value`` (the setting ``name``) must be a long, non-demo secret."""
    hint = f" {what}" if what else ""
    if not value:
        raise SettingsError(f"LUMO_ENV=production: {name} is not set; set it to at least {MIN_SECRET_CHARS} "
                            f"random characters{hint}")
    if value.startswith(DEMO_SECRET_PREFIX):
        raise SettingsError(f"LUMO_ENV=production: {name} is a demo key (written by `make run`); set it to a "
                            f"new secret of at least {MIN_SECRET_CHARS} random characters{hint}")
    if len(value) < MIN_SECRET_CHARS:
        raise SettingsError(f"LUMO_ENV=production: {name} is too short ({len(value)} characters); set it to at "
                            f"least {MIN_SECRET_CHARS} random characters{hint}")


def demo_switch(env: Mapping[str, str], name: str, environment: str) -> bool:
    """A demo-only feature: on by default in demo, never in production (asking for it there is refused)."""
    raw = env.get(name)
    if environment == "demo":
        return raw is None or raw.strip() not in ("0", "false", "")
    if raw is not None and raw.strip() not in ("0", "false", ""):
        raise SettingsError(f"LUMO_ENV=production: {name}={raw} is a demo feature; remove it or set {name}=0")
    return False


def _required_claim(env: Mapping[str, str], name: str, default: str, environment: str, claim: str) -> str:
    """The expected audience or issuer: never empty (an empty value would switch the check off)."""
    raw = env.get(name)
    if raw is None and environment == "demo":
        return default
    value = (raw or "").strip()
    if not value:
        raise SettingsError(f"{name} must be set to the {claim} your website puts in its identity tokens "
                            f"('{'aud' if claim == 'audience' else 'iss'}' claim); it cannot be empty")
    return value


@dataclass(frozen=True)
class Settings:
    """Settings of the action server."""

    environment: str = "production"
    jwt_algorithm: str = "HS256"
    # Verification keys: the first is current, the rest are accepted during key rotation.
    jwt_keys: Tuple[str, ...] = field(default_factory=tuple)
    jwt_audience: str = "lumo-assistant"
    jwt_issuer: str = "https://lumo.example"
    jwt_leeway_seconds: int = 30
    # The live-agent service signs the verified customer id it forwards to Rasa with this key; the
    # actions trust an id only with its signature (actions/identity.py).
    customer_id_key: str = ""
    accounts_database_url: str = "sqlite:///var/accounts.sqlite"
    accounts_timeout_seconds: float = 3.0
    seed_demo_accounts: bool = False  # demo only: re-seed the fictional demo customers
    handoff_recent_messages: int = 5
    liveagent_url: Optional[str] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Reads settings from environment variables (see .env.example)."""
        env = os.environ if env is None else env
        environment = read_environment(env)
        algorithm = env.get("LUMO_JWT_ALGORITHM", cls.jwt_algorithm)
        if algorithm not in ALLOWED_JWT_ALGORITHMS:
            raise SettingsError(
                f"LUMO_JWT_ALGORITHM={algorithm!r} is not allowed; "
                f"use one of {', '.join(ALLOWED_JWT_ALGORITHMS)}"
            )
        keys = tuple(
            key
            for key in (
                _read_key(env, "LUMO_JWT_KEY"),
                *[_read_key(env, f"LUMO_JWT_KEY_{n}") for n in range(2, 6)],
            )
            if key
        )
        try:
            timeout = float(env.get("LUMO_ACCOUNTS_TIMEOUT_SECONDS", cls.accounts_timeout_seconds))
            leeway = int(env.get("LUMO_JWT_LEEWAY_SECONDS", cls.jwt_leeway_seconds))
        except ValueError as error:
            raise SettingsError(f"invalid number in action server settings: {error}") from error
        customer_id_key = env.get("LUMO_CUSTOMER_ID_KEY", "")
        if environment == "production":
            if not keys:
                raise SettingsError("LUMO_ENV=production: LUMO_JWT_KEY is not set; set it to the key that verifies "
                                    "your website's identity tokens (LUMO_JWT_KEY_FILE for a public key file)")
            if algorithm.startswith("HS"):
                for n, key in enumerate(keys, start=1):
                    check_production_secret("LUMO_JWT_KEY" if n == 1 else f"LUMO_JWT_KEY_{n}", key,
                                            "(the secret your website signs identity tokens with)")
            check_production_secret("LUMO_CUSTOMER_ID_KEY", customer_id_key,
                                    "(the same value for the live-agent service and the action server)")
        return cls(
            environment=environment,
            jwt_algorithm=algorithm,
            jwt_keys=keys,
            jwt_audience=_required_claim(env, "LUMO_JWT_AUDIENCE", cls.jwt_audience, environment, "audience"),
            jwt_issuer=_required_claim(env, "LUMO_JWT_ISSUER", cls.jwt_issuer, environment, "issuer"),
            jwt_leeway_seconds=leeway,
            customer_id_key=customer_id_key,
            accounts_database_url=env.get(
                "LUMO_ACCOUNTS_DATABASE_URL", cls.accounts_database_url
            ),
            accounts_timeout_seconds=timeout,
            seed_demo_accounts=demo_switch(env, "LUMO_SEED_DEMO_ACCOUNTS", environment),
            liveagent_url=env.get("LUMO_LIVEAGENT_URL") or None,
        )

    @property
    def demo(self) -> bool:
        return self.environment == "demo"


def _read_key(env: Mapping[str, str], name: str) -> str:
    """A key given inline (NAME) or as a file path (NAME_FILE), e.g. a PEM public key."""
    if env.get(f"{name}_FILE"):
        with open(env[f"{name}_FILE"], encoding="utf-8") as handle:
            return handle.read()
    return env.get(name, "")


MIN_ACTION_SERVER_TOKEN_CHARS = 32


@dataclass(frozen=True)
class ServerSettings:
    """Settings of the action server process itself (actions/server.py)."""

    # Rasa sends it as `Authorization: Bearer <token>` (endpoints.yml); every route but /health needs it.
    token: str
    host: str = "127.0.0.1"
    # Rasa posts the tracker of the current session and the domain; far below this in practice.
    max_body_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ServerSettings":
        """Reads ACTION_SERVER_* variables; refuses a missing or short token."""
        env = os.environ if env is None else env
        token = env.get("ACTION_SERVER_TOKEN", "")
        if len(token) < MIN_ACTION_SERVER_TOKEN_CHARS:
            raise SettingsError(
                f"ACTION_SERVER_TOKEN must be set to at least {MIN_ACTION_SERVER_TOKEN_CHARS} random characters "
                "(make run writes one to .env); Rasa sends it as 'Authorization: Bearer <token>' "
                "(action_endpoint.headers in endpoints.yml)"
            )
        if read_environment(env) == "production":
            check_production_secret("ACTION_SERVER_TOKEN", token, "(the same value in Rasa's endpoints.yml)")
        try:
            max_body = int(env.get("ACTION_SERVER_MAX_BODY_BYTES", cls.max_body_bytes))
        except ValueError as error:
            raise SettingsError(f"invalid ACTION_SERVER_MAX_BODY_BYTES: {error}") from error
        if max_body < 1024:
            raise SettingsError("ACTION_SERVER_MAX_BODY_BYTES must be at least 1024")
        return cls(token=token, host=env.get("ACTION_SERVER_HOST", cls.host) or cls.host, max_body_bytes=max_body)


_settings: Optional[Settings] = None


def get_settings() -> Settings:
    """Process-wide settings, read once."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def override_settings(settings: Optional[Settings]) -> None:
    """Replace the process-wide settings (tests)."""
    global _settings
    _settings = settings
