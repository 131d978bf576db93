"""Settings every process reads the same way: LUMO_ENV, the production secret checks and identity.

``LUMO_ENV`` is ``demo`` or ``production``; missing means production (fail closed). Demo conveniences
exist only in demo. Production refuses a demo key (one `make run` generated: it starts with
``demo-``), a short secret, or an empty audience or issuer, with a message that says what to set.

``IdentitySettings`` is how the website's identity tokens are verified and how the service signs the
verified customer id for the actions: the live-agent service and the action server both read it here
(``IdentitySettings.from_env``), so they can never disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

# Only asymmetric or HMAC-SHA2 algorithms; never "none".
ALLOWED_JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "EdDSA")

ENVIRONMENTS = ("demo", "production")
# Every secret: at least this long in production (HMAC keys, signing secrets, bearer tokens).
MIN_SECRET_CHARS = 32
# `make run` (scripts/ensure_env.py) starts every secret it generates with this: a demo key.
DEMO_SECRET_PREFIX = "demo-"
# Demo only: the action server re-seeds the fictional demo customers (the demo site's logins). A
# deployment-wide demo feature: every process that reads LUMO_* refuses it in production.
SEED_DEMO_ACCOUNTS = "LUMO_SEED_DEMO_ACCOUNTS"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message tells the operator what to fix."""


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


def _read_key(env: Mapping[str, str], name: str) -> str:
    """A key given inline (NAME) or as a file path (NAME_FILE), e.g. a PEM public key."""
    if env.get(f"{name}_FILE"):
        with open(env[f"{name}_FILE"], encoding="utf-8") as handle:
            return handle.read()
    return env.get(name, "")


@dataclass(frozen=True)
class IdentitySettings:
    """How identity tokens are verified and the verified customer id is signed (service and actions)."""

    jwt_algorithm: str = "HS256"
    # Verification keys: the first is current, the rest are accepted during key rotation.
    jwt_keys: Tuple[str, ...] = field(default_factory=tuple)
    jwt_audience: str = "lumo-assistant"
    jwt_issuer: str = "https://lumo.example"
    jwt_leeway_seconds: int = 30
    # The live-agent service signs the verified customer id it forwards to Rasa with this key; the
    # actions trust an id only with its signature (lumo_shared/identity.py).
    customer_id_key: str = ""

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, environment: Optional[str] = None) -> "IdentitySettings":
        """Reads LUMO_JWT_* and LUMO_CUSTOMER_ID_KEY; production refuses missing, short or demo secrets."""
        env = os.environ if env is None else env
        environment = read_environment(env) if environment is None else environment
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
            leeway = int(env.get("LUMO_JWT_LEEWAY_SECONDS", cls.jwt_leeway_seconds))
        except ValueError as error:
            raise SettingsError(f"invalid number in identity settings: {error}") from error
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
            jwt_algorithm=algorithm,
            jwt_keys=keys,
            jwt_audience=_required_claim(env, "LUMO_JWT_AUDIENCE", cls.jwt_audience, environment, "audience"),
            jwt_issuer=_required_claim(env, "LUMO_JWT_ISSUER", cls.jwt_issuer, environment, "issuer"),
            jwt_leeway_seconds=leeway,
            customer_id_key=customer_id_key,
        )
