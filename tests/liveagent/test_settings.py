"""Settings the service reads from its environment."""

from __future__ import annotations

import pytest


def test_session_settings_and_console_origins():
    from liveagent.settings import Settings, SettingsError

    base = {"LIVEAGENT_SECRET": "s" * 40, "LUMO_JWT_KEY": "k" * 40, "LUMO_ENV": "demo"}
    default = Settings.from_env(base)
    assert (default.session_idle_minutes, default.session_max_hours, default.session_check_seconds) == (30, 10, 5)
    assert default.console_origins == ("http://localhost:8000",)  # the public URL
    assert Settings.from_env({**base, "LIVEAGENT_PUBLIC_URL": "https://chat.lumo.example/"}).console_origins == (
        "https://chat.lumo.example",)
    listed = Settings.from_env({**base, "LIVEAGENT_CONSOLE_ORIGINS": "https://a.example/, https://b.example"})
    assert listed.console_origins == ("https://a.example", "https://b.example")
    for value in ("0", "-1", "soon"):
        with pytest.raises(SettingsError, match="LIVEAGENT_SESSION_IDLE_MINUTES"):
            Settings.from_env({**base, "LIVEAGENT_SESSION_IDLE_MINUTES": value})


def test_the_message_limit_is_a_setting_of_at_least_one_character():
    from liveagent.settings import Settings, SettingsError

    base = {"LIVEAGENT_SECRET": "s" * 40, "LUMO_JWT_KEY": "k" * 40, "LUMO_ENV": "demo"}
    assert Settings.from_env(base).max_message_chars == 2000
    assert Settings.from_env({**base, "LIVEAGENT_MAX_MESSAGE_CHARS": "500"}).max_message_chars == 500
    with pytest.raises(SettingsError, match="LIVEAGENT_MAX_MESSAGE_CHARS"):
        Settings.from_env({**base, "LIVEAGENT_MAX_MESSAGE_CHARS": "0"})


def test_make_runs_console_opens_under_both_loopback_names(tmp_path, monkeypatch):
    """make run prints http://localhost:8000, but people type 127.0.0.1 too: its .env lets the console log
    in from both; a production .env (from .env.example alone) allows the public URL's origin only."""
    from liveagent.settings import Settings
    from tests.conftest import ROOT, run_ensure_env

    values = run_ensure_env(tmp_path, monkeypatch)
    demo = Settings.from_env({key: value for key, value in values.items() if value})
    assert demo.console_origins == ("http://localhost:8000", "http://127.0.0.1:8000")
    example = {line.partition("=")[0]: line.partition("=")[2]
               for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines() if "=" in line
               and not line.startswith("#")}
    assert example["LIVEAGENT_CONSOLE_ORIGINS"] == ""
