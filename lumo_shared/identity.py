"""Who the visitor is: only ever from a verified, unexpired signature.

The website issues a JWT to a logged-in visitor and the widget hands it to the live-agent service,
which verifies it (``verify_token``: the algorithm pinned by settings, never taken from the token
header; expiry, audience and issuer required; several keys valid at once for rotation).

The raw JWT never goes further: Rasa stores message metadata in its tracker, and a website token
there would be a credential anyone reading the tracker store could replay. The service forwards
only the verified customer id, signed by itself (``sign_customer_id``): an HMAC-SHA256 with
``LUMO_CUSTOMER_ID_KEY`` (shared by the service and the action server) over the id, the
conversation (Rasa's sender id) and an expiry a few minutes ahead. The actions trust a customer
id only with a valid, unexpired signature for their own conversation
(``identity_from_metadata``); an unsigned ``customer_id``, a raw ``auth_token`` or a signature
copied from another conversation is refused (a raw ``auth_token`` or a bare ``customer_id`` counts as
anonymous; a signed value that does not verify as an expired session).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

import jwt

from lumo_shared.settings import IdentitySettings

logger = logging.getLogger(__name__)

# Where the service puts the signed, verified customer id in the user message's metadata.
CUSTOMER_METADATA_KEY = "customer"
# How long a signed customer id is good for: the turn it was sent with (Rasa + actions) fits easily.
CUSTOMER_ID_TTL_SECONDS = 300
_SIGNATURE_CONTEXT = "lumo-customer-id-v1"


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


def verify_token(token: str, settings: IdentitySettings) -> Optional[Identity]:
    """The identity in ``token`` if it verifies against a configured key, else None."""
    if not settings.jwt_keys:
        logger.error("No JWT verification key configured (LUMO_JWT_KEY); refusing all tokens")
        return None
    if not settings.jwt_audience or not settings.jwt_issuer:  # an empty one must never switch its check off
        logger.error("LUMO_JWT_AUDIENCE or LUMO_JWT_ISSUER is empty; refusing all tokens")
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
                options={"require": ["exp", "sub", "aud", "iss"]},
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


def _customer_signature(key: str, sender_id: str, customer_id: str, expires: int) -> str:
    message = json.dumps([_SIGNATURE_CONTEXT, sender_id, customer_id, expires]).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sign_customer_id(customer_id: str, sender_id: str, key: str, now: Optional[float] = None) -> Dict[str, Any]:
    """Metadata value for a customer id the service verified: what the actions trust (never the JWT)."""
    expires = int(time.time() if now is None else now) + CUSTOMER_ID_TTL_SECONDS
    return {"id": customer_id, "expires": expires,
            "signature": _customer_signature(key, sender_id, customer_id, expires)}


def verify_customer_id(value: Any, sender_id: str, settings: IdentitySettings,
                       now: Optional[float] = None) -> Optional[Identity]:
    """The customer in ``value`` if the service signed it for this conversation and it has not expired."""
    if not settings.customer_id_key:
        logger.error("No LUMO_CUSTOMER_ID_KEY configured; refusing every signed customer id")
        return None
    if not isinstance(value, dict):
        return None
    customer_id, expires, signature = value.get("id"), value.get("expires"), value.get("signature")
    if not (isinstance(customer_id, str) and customer_id and isinstance(expires, int)
            and not isinstance(expires, bool) and isinstance(signature, str)):
        return None
    expected = _customer_signature(settings.customer_id_key, sender_id, customer_id, expires)
    if not hmac.compare_digest(expected, signature):
        logger.info("Refused a customer id: the signature does not match")
        return None
    if (time.time() if now is None else now) > expires + settings.jwt_leeway_seconds:
        logger.info("Refused a customer id: its signature has expired")
        return None
    return Identity(customer_id=customer_id)


def identity_from_metadata(metadata: Optional[Dict[str, Any]], settings: IdentitySettings,
                           sender_id: str) -> IdentityResult:
    """Reads the visitor's identity from user-message metadata of the conversation ``sender_id``."""
    value = (metadata or {}).get(CUSTOMER_METADATA_KEY)
    if value is None:  # anything else a client may put there (an "auth_token", a bare "customer_id") proves nothing
        return IdentityResult(IdentityStatus.ANONYMOUS)
    identity = verify_customer_id(value, sender_id, settings)
    if identity is None:
        return IdentityResult(IdentityStatus.INVALID)
    return IdentityResult(IdentityStatus.VERIFIED, identity)

