"""The only place the action server reads its environment.

``LUMO_ENV`` and the identity settings (JWT verification, the customer-id signing key) are read as
every process reads them (lumo_shared/settings.py); this module adds the action server's own: the
accounts database and the server process. Demo conveniences (re-seeding the fictional demo
customers) exist only in demo. Secrets always come from the environment (the Makefile writes random
ones to `.env` on first run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

from lumo_shared.settings import (
    SEED_DEMO_ACCOUNTS,
    IdentitySettings,
    SettingsError,
    check_production_secret,
    demo_switch,
    read_environment,
)


@dataclass(frozen=True)
class Settings:
    """Settings of the action server."""

    environment: str = "production"
    identity: IdentitySettings = field(default_factory=IdentitySettings)
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
        identity = IdentitySettings.from_env(env, environment)
        try:
            timeout = float(env.get("LUMO_ACCOUNTS_TIMEOUT_SECONDS", cls.accounts_timeout_seconds))
        except ValueError as error:
            raise SettingsError(f"invalid number in action server settings: {error}") from error
        return cls(
            environment=environment,
            identity=identity,
            accounts_database_url=env.get(
                "LUMO_ACCOUNTS_DATABASE_URL", cls.accounts_database_url
            ),
            accounts_timeout_seconds=timeout,
            seed_demo_accounts=demo_switch(env, SEED_DEMO_ACCOUNTS, environment),
            liveagent_url=env.get("LUMO_LIVEAGENT_URL") or None,
        )

    @property
    def demo(self) -> bool:
        return self.environment == "demo"


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
