"""The only place the action server reads its environment.

Every setting has an embedded default that works for `make run` on a laptop, except secrets:
the JWT verification key must come from the environment (the Makefile writes a random one to
`.env` on first run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

# Only asymmetric or HMAC-SHA2 algorithms; never "none".
ALLOWED_JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "EdDSA")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message tells the operator what to fix."""


@dataclass(frozen=True)
class Settings:
    """Settings of the action server."""

    jwt_algorithm: str = "HS256"
    # Verification keys: the first is current, the rest are accepted during key rotation.
    jwt_keys: Tuple[str, ...] = field(default_factory=tuple)
    jwt_audience: Optional[str] = "lumo-assistant"
    jwt_issuer: Optional[str] = "https://lumo.example"
    jwt_leeway_seconds: int = 30
    accounts_database_url: str = "sqlite:///var/accounts.sqlite"
    accounts_timeout_seconds: float = 3.0
    seed_demo_accounts: bool = True
    handoff_recent_messages: int = 5
    liveagent_url: Optional[str] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Reads settings from environment variables (see .env.example)."""
        env = os.environ if env is None else env
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
        return cls(
            jwt_algorithm=algorithm,
            jwt_keys=keys,
            jwt_audience=env.get("LUMO_JWT_AUDIENCE", cls.jwt_audience) or None,
            jwt_issuer=env.get("LUMO_JWT_ISSUER", cls.jwt_issuer) or None,
            jwt_leeway_seconds=leeway,
            accounts_database_url=env.get(
                "LUMO_ACCOUNTS_DATABASE_URL", cls.accounts_database_url
            ),
            accounts_timeout_seconds=timeout,
            seed_demo_accounts=env.get("LUMO_SEED_DEMO_ACCOUNTS", "1") not in ("0", "false"),
            liveagent_url=env.get("LUMO_LIVEAGENT_URL") or None,
        )


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
