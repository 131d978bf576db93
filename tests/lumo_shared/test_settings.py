"""Identity settings, read in one place for the service and the action server: unsafe values are refused
with a clear message, and both processes end up with the same settings."""

import pytest

from actions.settings import Settings as ActionSettings
from liveagent.settings import Settings as ServiceSettings
from lumo_shared.settings import IdentitySettings, SettingsError, demo_switch, read_environment


def test_settings_refuse_unsafe_algorithms():
    with pytest.raises(SettingsError):
        IdentitySettings.from_env({"LUMO_ENV": "demo", "LUMO_JWT_ALGORITHM": "none"})
    with pytest.raises(SettingsError):  # through the action server's settings too
        ActionSettings.from_env({"LUMO_ENV": "demo", "LUMO_JWT_ALGORITHM": "none"})
    settings = ActionSettings.from_env({"LUMO_ENV": "demo", "LUMO_JWT_KEY": "k1", "LUMO_JWT_KEY_2": "k0"})
    assert settings.identity.jwt_keys == ("k1", "k0")
    assert settings.identity.jwt_algorithm == "HS256"


def test_the_service_and_the_action_server_read_the_same_identity_settings():
    env = {"LUMO_ENV": "demo", "LIVEAGENT_SECRET": "s" * 40, "LUMO_JWT_KEY": "k1", "LUMO_JWT_KEY_3": "k0",
           "LUMO_JWT_ALGORITHM": "HS384", "LUMO_JWT_AUDIENCE": "aud", "LUMO_JWT_ISSUER": "iss",
           "LUMO_JWT_LEEWAY_SECONDS": "5", "LUMO_CUSTOMER_ID_KEY": "c" * 40}
    expected = IdentitySettings(jwt_algorithm="HS384", jwt_keys=("k1", "k0"), jwt_audience="aud", jwt_issuer="iss",
                                jwt_leeway_seconds=5, customer_id_key="c" * 40)
    assert IdentitySettings.from_env(env) == expected
    assert ActionSettings.from_env(env).identity == expected
    assert ServiceSettings.from_env(env).identity == expected


def test_environment_and_demo_switches_fail_closed():
    assert read_environment({}) == "production"
    with pytest.raises(SettingsError, match="LUMO_ENV='staging' is not known"):
        read_environment({"LUMO_ENV": "staging"})
    assert demo_switch({}, "LUMO_X", "demo") is True
    assert demo_switch({"LUMO_X": "0"}, "LUMO_X", "demo") is False
    assert demo_switch({}, "LUMO_X", "production") is False
    with pytest.raises(SettingsError, match="LUMO_X=1 is a demo feature"):
        demo_switch({"LUMO_X": "1"}, "LUMO_X", "production")
