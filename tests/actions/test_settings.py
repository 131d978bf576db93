"""Action server settings: unsafe values are refused with a clear message."""

import pytest

from actions.settings import Settings, SettingsError


def test_settings_refuse_unsafe_algorithms():
    with pytest.raises(SettingsError):
        Settings.from_env({"LUMO_ENV": "demo", "LUMO_JWT_ALGORITHM": "none"})
    settings = Settings.from_env({"LUMO_ENV": "demo", "LUMO_JWT_KEY": "k1", "LUMO_JWT_KEY_2": "k0"})
    assert settings.identity.jwt_keys == ("k1", "k0")
    assert settings.identity.jwt_algorithm == "HS256"
