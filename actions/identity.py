"""Who the visitor is: only ever from a verified, unexpired signed token.

The website issues a JWT to a logged-in visitor; it reaches the action in the user message's
metadata under ``auth_token``. Anything else a client may put in metadata ("customer_id",
"name", ...) is ignored. The algorithm is pinned by settings (never taken from the token
header), expiry is required, and several keys may be valid at once for rotation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Dict, Optional

import jwt

from actions.settings import Settings

logger = logging.getLogger(__name__)

TOKEN_METADATA_KEY = "auth_token"


@dataclass(frozen=True)
class Identity:
    """A verified customer."""

    customer_id: str


class IdentityStatus:
    """Outcome of reading the identity from a message."""

    ANONYMOUS = "anonymous"
    VERIFIED = "verified"
    INVALID = "invalid"


@dataclass(frozen=True)
class IdentityResult:
    status: str
    identity: Optional[Identity] = None


def verify_token(token: str, settings: Settings) -> Optional[Identity]:
    """The identity in ``token`` if it verifies against a configured key, else None."""
    if not settings.jwt_keys:
        logger.error("No JWT verification key configured (LUMO_JWT_KEY); refusing all tokens")
        return None
    for key in settings.jwt_keys:
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub"]},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with another (rotated) key
        except jwt.PyJWTError as error:
            logger.info("Refused identity token: %s", type(error).__name__)
            return None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            logger.info("Refused identity token: empty subject")
            return None
        return Identity(customer_id=subject)
    logger.info("Refused identity token: signature matches no configured key")
    return None


def issue_token(customer_id: str, key: str, algorithm: str, audience: Optional[str], issuer: Optional[str],
                minutes: int = 30) -> str:
    """A token as the website issues it to a logged-in visitor (demo site and tools only)."""
    now = dt.datetime.now(dt.timezone.utc)
    claims: Dict[str, Any] = {"sub": customer_id, "iat": now, "exp": now + dt.timedelta(minutes=minutes)}
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, key, algorithm=algorithm)


def identity_from_metadata(metadata: Optional[Dict[str, Any]], settings: Settings) -> IdentityResult:
    """Reads the visitor's identity from user-message metadata."""
    token = (metadata or {}).get(TOKEN_METADATA_KEY)
    if not token:
        return IdentityResult(IdentityStatus.ANONYMOUS)
    if not isinstance(token, str):
        return IdentityResult(IdentityStatus.INVALID)
    identity = verify_token(token, settings)
    if identity is None:
        return IdentityResult(IdentityStatus.INVALID)
    return IdentityResult(IdentityStatus.VERIFIED, identity)


def latest_user_metadata(events: Any) -> Dict[str, Any]:
    """Metadata of the latest user message in a tracker's event list."""
    for event in reversed(list(events or [])):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, dict) else {}
    return {}
