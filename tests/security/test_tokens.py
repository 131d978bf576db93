"""Forged, altered and expired tokens: the website's identity JWTs and the agents' session cookies.

Identity tokens are verified by the code the service shares with the action server
(lumo_shared.identity.verify_token with the service's settings); the service forwards to Rasa only a
token that verifies. Agent sessions are HS256 JWTs in an HTTP-only cookie (liveagent/auth.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any, Dict

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from liveagent.auth import COOKIE
from liveagent.settings import Settings
from lumo_shared.identity import verify_token
from lumo_shared.settings import IdentitySettings
from tests.conftest import CUSTOMER_ID_KEY, OTHER_KEY, TEST_KEY, make_token
from tests.liveagent.conftest import SECRET

SERVICE_SECRET = "s" * 40
# the attacks sign HS512 with keys shorter than PyJWT recommends for it; that is their point
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def settings(**env: str) -> IdentitySettings:
    """The service's identity settings read from the environment, as in production."""
    return Settings.from_env({"LUMO_ENV": "production", "LIVEAGENT_SECRET": SERVICE_SECRET, "LUMO_JWT_KEY": TEST_KEY,
                              "RASA_JWT_SECRET": "r" * 40, "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY,
                              "LUMO_JWT_AUDIENCE": "lumo-assistant", "LUMO_JWT_ISSUER": "https://lumo.example",
                              **env}).identity


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hand_signed(header: Dict[str, Any], claims: Dict[str, Any], key: bytes) -> str:
    """A token signed by hand with HMAC-SHA256: how an attacker builds what PyJWT refuses to build."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def claims(**overrides: Any) -> Dict[str, Any]:
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    values = {"sub": "LUMO-1001", "iat": now, "exp": now + 1800, "aud": "lumo-assistant", "iss": "https://lumo.example"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def tampered(token: str) -> str:
    """The payload changed to another customer, the original signature kept."""
    header, _payload, signature = token.split(".")
    return f"{header}.{b64(json.dumps(claims(sub='LUMO-1003')).encode())}.{signature}"


# identity tokens


def test_a_genuine_identity_token_is_accepted():
    assert verify_token(make_token("LUMO-1004"), settings()).customer_id == "LUMO-1004"


ATTACKS = {
    "alg none": lambda: jwt.encode(claims(), None, algorithm="none"),
    "alg none, upper case": lambda: b64(b'{"alg":"NONE","typ":"JWT"}') + "." + b64(json.dumps(claims()).encode()) + ".",
    "wrong key": lambda: make_token(key=OTHER_KEY),
    "missing exp": lambda: make_token(exp=None),
    "expired beyond the leeway": lambda: make_token(minutes=-2),
    "wrong audience": lambda: make_token(aud="another-service"),
    "wrong issuer": lambda: make_token(iss="https://evil.example"),
    "missing subject": lambda: make_token(sub=None),
    "empty subject": lambda: make_token(sub=""),
    "HS512 with the right key (algorithm not pinned)": lambda: make_token(algorithm="HS512"),
    "payload altered, signature kept": lambda: tampered(make_token()),
    "signature stripped": lambda: make_token().rsplit(".", 1)[0] + ".",
    "not a token": lambda: "LUMO-1001",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_forged_identity_tokens_are_refused(attack):
    assert verify_token(ATTACKS[attack](), settings()) is None


@pytest.fixture
def rsa_keys(tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "website-public.pem"
    path.write_bytes(public_pem)
    return private, public_pem, path


def test_algorithm_confusion_hs256_signed_with_the_rsa_public_key_is_refused(rsa_keys):
    private, public_pem, path = rsa_keys
    rs256 = settings(LUMO_JWT_ALGORITHM="RS256", LUMO_JWT_KEY="", LUMO_JWT_KEY_FILE=str(path))
    genuine = jwt.encode(claims(sub="LUMO-1002"), private, algorithm="RS256")
    assert verify_token(genuine, rs256).customer_id == "LUMO-1002"
    # The attacker knows the public key and signs HS256 with it as the HMAC secret.
    confused = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(sub="LUMO-1003"), public_pem)
    assert verify_token(confused, rs256) is None
    assert verify_token(jwt.encode(claims(), None, algorithm="none"), rs256) is None
    assert verify_token(make_token(), rs256) is None  # a genuine HS256 token of another deployment too


def test_key_rotation_accepts_the_old_key_only_while_it_is_listed():
    old_key, new_key = "old-" + TEST_KEY, "new-" + TEST_KEY
    during = settings(LUMO_JWT_KEY=new_key, LUMO_JWT_KEY_2=old_key)
    assert verify_token(make_token("LUMO-1005", key=old_key), during).customer_id == "LUMO-1005"
    assert verify_token(make_token("LUMO-1006", key=new_key), during).customer_id == "LUMO-1006"
    after = settings(LUMO_JWT_KEY=new_key)
    assert verify_token(make_token("LUMO-1005", key=old_key), after) is None
    assert verify_token(make_token("LUMO-1006", key=new_key), after).customer_id == "LUMO-1006"


async def test_the_service_forwards_only_verified_identity_to_rasa(service, visitors):
    visitor = await visitors()
    await visitor.connect()
    forged = [ATTACKS[name]() for name in ("alg none", "wrong key", "expired beyond the leeway",
                                          "payload altered, signature kept")]
    genuine = make_token("LUMO-1004")
    for n, token in enumerate([*forged, genuine]):
        await visitor.say(f"viesti {n}", auth_token=token)
        await visitor.wait_for("bot_uttered", lambda d, n=n: d["text"] == f"Botti: viesti {n}")
    conversation_id = visitor.token.split(".")[0]
    sent = [entry["metadata"] for entry in service.rasa_log()["log"][conversation_id] if entry["kind"] == "user"]
    assert sent[:4] == [{}, {}, {}, {}]
    assert list(sent[4]) == ["customer"] and sent[4]["customer"]["id"] == "LUMO-1004"
    assert genuine not in str(sent)  # only the verified id reaches Rasa's tracker, not the token


# agent session cookies


def session_cookie(secret: str, algorithm: str = "HS256", **overrides: Any) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    values = {"agent_id": 1, "csrf": "csrf-token", "iat": now, "exp": now + dt.timedelta(hours=1)}
    values.update(overrides)
    return jwt.encode({k: v for k, v in values.items() if v is not None}, secret, algorithm=algorithm)


async def me_with(service, cookie: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{service.url}/api/agent/me", headers={"Cookie": f"{COOKIE}={cookie}"}) as response:
            return response.status


async def test_forged_altered_and_expired_session_cookies_are_refused(service, make_agent):
    aino = await make_agent("aino", online=False)
    real = next(c.value for c in aino.session.cookie_jar if c.key == COOKIE)
    header, payload, signature = real.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    promoted = b64(json.dumps({**decoded, "agent_id": 2}).encode())  # ville, the supervisor
    sid = decoded["sid"]  # the session record the cookie names
    attacks = {
        "signed with another secret": session_cookie("not-the-service-secret-0123456789abcdef",
                                                     agent_id=aino.me["id"], sid=sid),
        "payload altered, signature kept": f"{header}.{promoted}.{signature}",
        "expired": session_cookie(SECRET, exp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1),
                                  agent_id=aino.me["id"], sid=sid),
        "alg none": jwt.encode({"agent_id": 1, "csrf": "x", "exp": 4102444800}, None, algorithm="none"),
        "HS512 with the real secret": session_cookie(SECRET, algorithm="HS512", agent_id=aino.me["id"], sid=sid),
        "no csrf claim": session_cookie(SECRET, csrf=None, agent_id=aino.me["id"], sid=sid),
        "no expiry": session_cookie(SECRET, exp=None, agent_id=aino.me["id"], sid=sid),
        "an agent that does not exist": session_cookie(SECRET, agent_id=999, sid=sid),
        "signed right, no session id": session_cookie(SECRET, agent_id=aino.me["id"]),
        "signed right, a session that was never started": session_cookie(SECRET, agent_id=aino.me["id"],
                                                                          sid="made-up-session-id"),
        "signed right, aino's session under ville's id": session_cookie(SECRET, agent_id=2, sid=sid),
        "garbage": "x.y.z",
    }
    statuses = {name: await me_with(service, cookie) for name, cookie in attacks.items()}
    assert statuses == {name: 401 for name in attacks}
    assert await me_with(service, real) == 200
    assert await me_with(service, session_cookie(SECRET, agent_id=aino.me["id"], sid=sid)) == 200  # the control


async def test_the_session_cookie_is_http_only_same_site_strict(service, make_agent):
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{service.url}/api/agent/login",
                                      json={"username": "aino", "password": "demo-password-for-tests"})
        assert response.status == 200
    set_cookie = response.headers["Set-Cookie"].lower()
    assert set_cookie.startswith(f"{COOKIE}=")
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "path=/" in set_cookie
