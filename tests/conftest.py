"""Shared fixtures: dispatcher, domain, small inline trackers, test settings and tokens."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import jwt
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import settings as settings_module
from actions.clients import accounts_backend
from lumo_shared.privacy import install_log_masking
from lumo_shared.settings import IdentitySettings

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
OTHER_KEY = "another-secret-key-nobody-configured-for-this-test-0123"
# shared by the service (signs the verified customer id it forwards to Rasa) and the action server
CUSTOMER_ID_KEY = "customer-id-key-for-tests-0123456789-abcdefgh"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def test_settings() -> settings_module.Settings:
    identity = IdentitySettings(jwt_keys=(TEST_KEY,), customer_id_key=CUSTOMER_ID_KEY)
    settings = settings_module.Settings(identity=identity, accounts_database_url="sqlite://")
    settings_module.override_settings(settings)
    yield settings
    settings_module.override_settings(None)


@pytest.fixture
def masked_logs():
    """Log records masked as in the action server, Rasa and the service: their entry points install the
    masking (importing a package never does), so a test in this process installs it, and removes it after."""
    previous = logging.getLogRecordFactory()
    install_log_masking()
    yield
    logging.setLogRecordFactory(previous)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    responses = dict(loaded.get("responses") or {})
    for path in sorted((ROOT / "data" / "faq").glob("*.yml")):
        with open(path, encoding="utf-8") as handle:
            responses.update((yaml.safe_load(handle) or {}).get("responses") or {})
    loaded["responses"] = responses
    return loaded


def make_token(
    customer_id: str = "LUMO-1001",
    key: str = TEST_KEY,
    minutes: int = 30,
    algorithm: str = "HS256",
    **overrides: Any,
) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    claims: Dict[str, Any] = {
        "sub": customer_id,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
        "aud": "lumo-assistant",
        "iss": "https://lumo.example",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def signed_customer(customer_id: str = "LUMO-1001", sender_id: str = "visitor-1", key: str = CUSTOMER_ID_KEY,
                    now: Optional[float] = None) -> Dict[str, Any]:
    """User-message metadata as the live-agent service forwards a verified customer to Rasa."""
    from lumo_shared.identity import CUSTOMER_METADATA_KEY, sign_customer_id

    return {CUSTOMER_METADATA_KEY: sign_customer_id(customer_id, sender_id, key, now=now)}


def user_event(
    text: str,
    intent: str,
    metadata: Optional[Dict[str, Any]] = None,
    faq_key: Optional[str] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
    selector_ranking: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    parse_data: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    if faq_key or selector_ranking:
        parse_data["response_selector"] = {
            "faq": {
                "response": {"intent_response_key": faq_key},
                "ranking": selector_ranking or [],
            }
        }
    return {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata or {}}


def make_tracker(
    events: List[Dict[str, Any]],
    slots: Optional[Dict[str, Any]] = None,
    sender_id: str = "visitor-1",
) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e.get("event") == "user"), {})
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


@pytest.fixture
def sqlite_backend(test_settings):
    """The real SQL backend on an in-memory SQLite database, seeded with the demo customers."""
    engine = accounts_backend.create_engine("sqlite://", 2.0)
    backend = accounts_backend.SqlAccountsBackend(engine, 2.0)
    backend.create_schema()
    backend.seed_demo_customers(today=dt.date(2026, 11, 20))
    accounts_backend.set_backend(backend)
    yield backend
    accounts_backend.set_backend(None)


def content_copy(target: Path, model: Optional[bytes] = None) -> Path:
    """What an editor may change, copied: the tests edit and publish there, never in this checkout.

    The trained model is hard-linked (publishing replaces files by rename, so the original stays
    intact); ``model`` puts stand-in bytes there instead, for tests that never load it.
    """
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "data", target / "data")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, target / name)
    (target / "actions").symlink_to(ROOT / "actions")
    (target / "models").mkdir()
    current = target / "models" / "lumo.tar.gz"
    if model is not None:
        current.write_bytes(model)
        return target
    try:
        os.link(ROOT / "models" / "lumo.tar.gz", current)
    except OSError:
        shutil.copy(ROOT / "models" / "lumo.tar.gz", current)
    return target


def load_script(name: str) -> Any:
    """scripts/<name>.py as a module of its own (the scripts are run as files, not imported as a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_ensure_env(tmp_path: Path, monkeypatch) -> dict:
    """Runs scripts/ensure_env.py (what `make run` does) in ``tmp_path``; returns the .env it wrote."""
    ensure_env = load_script("ensure_env")
    (tmp_path / ".env.example").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(ensure_env, "ROOT", tmp_path)
    assert ensure_env.main() == 0
    return ensure_env.parse((tmp_path / ".env").read_text(encoding="utf-8").splitlines())
