"""Identity: the website's tokens and the customer id the service signs for the actions."""

from __future__ import annotations

import time

from lumo_shared.identity import (
    CUSTOMER_ID_TTL_SECONDS,
    CUSTOMER_METADATA_KEY,
    IdentityStatus,
    identity_from_metadata,
    issue_token,
    sign_customer_id,
    verify_customer_id,
    verify_token,
)
from lumo_shared.settings import IdentitySettings
from tests.conftest import CUSTOMER_ID_KEY, OTHER_KEY, TEST_KEY

SETTINGS = IdentitySettings(jwt_keys=(TEST_KEY,), customer_id_key=CUSTOMER_ID_KEY)


def test_a_token_issued_for_the_demo_site_verifies_with_the_same_settings():
    token = issue_token("LUMO-1001", TEST_KEY, "HS256", SETTINGS.jwt_audience, SETTINGS.jwt_issuer)
    assert verify_token(token, SETTINGS).customer_id == "LUMO-1001"
    other = issue_token("LUMO-1001", OTHER_KEY, "HS256", SETTINGS.jwt_audience, SETTINGS.jwt_issuer)
    assert verify_token(other, SETTINGS) is None
    assert verify_token(token, IdentitySettings()) is None  # no key configured: every token refused


def test_a_signed_customer_id_is_good_for_its_own_conversation_until_it_expires():
    now = time.time()
    signed = sign_customer_id("LUMO-1002", "conversation-a", CUSTOMER_ID_KEY, now=now)
    assert verify_customer_id(signed, "conversation-a", SETTINGS, now=now).customer_id == "LUMO-1002"
    assert verify_customer_id(signed, "conversation-b", SETTINGS, now=now) is None  # copied to another chat
    assert verify_customer_id({**signed, "id": "LUMO-1003"}, "conversation-a", SETTINGS, now=now) is None
    late = now + CUSTOMER_ID_TTL_SECONDS + SETTINGS.jwt_leeway_seconds + 1
    assert verify_customer_id(signed, "conversation-a", SETTINGS, now=late) is None
    without_key = IdentitySettings(jwt_keys=(TEST_KEY,))
    assert verify_customer_id(signed, "conversation-a", without_key, now=now) is None


def test_identity_from_metadata_tells_anonymous_verified_and_invalid_apart():
    signed = sign_customer_id("LUMO-1004", "visitor-1", CUSTOMER_ID_KEY)
    verified = identity_from_metadata({CUSTOMER_METADATA_KEY: signed}, SETTINGS, "visitor-1")
    assert (verified.status, verified.identity.customer_id) == (IdentityStatus.VERIFIED, "LUMO-1004")
    for anonymous in (None, {}, {"customer_id": "LUMO-1004"}, {"auth_token": "a.b.c"}):
        assert identity_from_metadata(anonymous, SETTINGS, "visitor-1").status == IdentityStatus.ANONYMOUS
    forged = {CUSTOMER_METADATA_KEY: {**signed, "signature": "0" * 64}}
    assert identity_from_metadata(forged, SETTINGS, "visitor-1").status == IdentityStatus.INVALID
