"""Fail closed: LUMO_ENV missing means production, and production refuses demo conveniences and weak settings.

Each process is started for real (`python -m liveagent serve`, `python -m actions.server`,
python -m rasa_runtime) with one bad setting in an otherwise good production environment: it must
exit with code 2 and an English message that names what to set, without a traceback. The service
that does start in production has no demo token route, no demo agents and only Secure cookies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, Optional

import aiohttp
import pytest

from actions import settings as action_settings
from actions.clients import accounts_backend
from stack.processes import free_port
from tests.conftest import CUSTOMER_ID_KEY, ROOT, TEST_KEY, load_script, run_ensure_env
from tests.liveagent.conftest import DEMO_PASSWORD, RASA_SECRET, SECRET

ACTION_TOKEN = "fail-closed-action-server-token-0123456789"
# A production environment every process accepts; each case below spoils one thing in it.
GOOD = {
    "LUMO_ENV": "production", "LUMO_JWT_KEY": TEST_KEY, "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY,
    "LUMO_JWT_AUDIENCE": "lumo-assistant", "LUMO_JWT_ISSUER": "https://lumo.example",
    "LIVEAGENT_SECRET": SECRET, "RASA_JWT_SECRET": RASA_SECRET, "ACTION_SERVER_TOKEN": ACTION_TOKEN,
}
DEMO_KEY = "demo-" + "k" * 60  # what `make run` generates (scripts/ensure_env.py)
UNSET = None

# case -> (changes to GOOD, text the message must contain, processes that read the setting)
BAD: Dict[str, tuple] = {
    "LUMO_ENV missing (production) with make run's demo key": (
        {"LUMO_ENV": UNSET, "LUMO_JWT_KEY": DEMO_KEY}, "LUMO_JWT_KEY is a demo key", ("service", "actions")),
    "a demo identity key": ({"LUMO_JWT_KEY": DEMO_KEY}, "LUMO_JWT_KEY is a demo key", ("service", "actions")),
    "a short identity key": ({"LUMO_JWT_KEY": "short-key-0123"}, "LUMO_JWT_KEY is too short", ("service", "actions")),
    "no identity key": ({"LUMO_JWT_KEY": UNSET}, "LUMO_JWT_KEY is not set", ("service", "actions")),
    "a demo rotation key": ({"LUMO_JWT_KEY_2": DEMO_KEY}, "LUMO_JWT_KEY_2 is a demo key", ("service", "actions")),
    "an empty audience": ({"LUMO_JWT_AUDIENCE": ""}, "LUMO_JWT_AUDIENCE must be set", ("service", "actions")),
    "no audience": ({"LUMO_JWT_AUDIENCE": UNSET}, "LUMO_JWT_AUDIENCE must be set", ("service", "actions")),
    "an empty issuer": ({"LUMO_JWT_ISSUER": " "}, "LUMO_JWT_ISSUER must be set", ("service", "actions")),
    "no customer id key": ({"LUMO_CUSTOMER_ID_KEY": UNSET}, "LUMO_CUSTOMER_ID_KEY is not set", ("service", "actions")),
    "a demo customer id key": ({"LUMO_CUSTOMER_ID_KEY": DEMO_KEY}, "LUMO_CUSTOMER_ID_KEY is a demo key",
                               ("service", "actions")),
    "a demo service secret": ({"LIVEAGENT_SECRET": DEMO_KEY}, "LIVEAGENT_SECRET is a demo key", ("service",)),
    "a demo metrics token": ({"LIVEAGENT_METRICS_TOKEN": DEMO_KEY}, "LIVEAGENT_METRICS_TOKEN is a demo key",
                             ("service",)),
    "a short metrics token": ({"LIVEAGENT_METRICS_TOKEN": "metrics-0123"}, "LIVEAGENT_METRICS_TOKEN is too short",
                              ("service",)),
    "a short Rasa API secret": ({"RASA_JWT_SECRET": "rasa-0123456789"}, "RASA_JWT_SECRET is too short",
                                ("service", "rasa")),
    "a demo action server token": ({"ACTION_SERVER_TOKEN": DEMO_KEY}, "ACTION_SERVER_TOKEN is a demo key",
                                   ("actions", "rasa")),
    "demo customer tokens": ({"LIVEAGENT_DEMO_TOKENS": "1"}, "LIVEAGENT_DEMO_TOKENS=1 is a demo feature",
                             ("service",)),
    "cookies without Secure": ({"LIVEAGENT_INSECURE_COOKIES": "1"}, "LIVEAGENT_INSECURE_COOKIES=1 is a demo feature",
                               ("service",)),
    "demo agents": ({"LIVEAGENT_DEMO_PASSWORD": DEMO_PASSWORD}, "LIVEAGENT_DEMO_PASSWORD creates demo agents",
                    ("service",)),
    "demo customers seeded": ({"LUMO_SEED_DEMO_ACCOUNTS": "1"}, "LUMO_SEED_DEMO_ACCOUNTS=1 is a demo feature",
                              ("service", "actions")),
    "an unknown LUMO_ENV": ({"LUMO_ENV": "staging"}, "LUMO_ENV='staging' is not known", ("service", "actions", "rasa")),
}
COMMANDS = {
    "service": [sys.executable, "-m", "liveagent", "serve"],
    "actions": [sys.executable, "-m", "actions.server", "--port", "0"],
    # refused before Rasa is even imported: no model is needed
    "rasa": [sys.executable, "-m", "rasa_runtime", "--model", "none.tar.gz"],
}


def environment(changes: Dict[str, Optional[str]]) -> Dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LUMO_", "LIVEAGENT_", "RASA_", "ACTION_"))}
    env = {**base, **GOOD, "LIVEAGENT_PORT": str(free_port()), "TF_CPP_MIN_LOG_LEVEL": "2"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


CASES = [(name, process) for name, (_changes, _text, processes) in BAD.items() for process in processes]


@pytest.mark.parametrize("case, process", CASES, ids=[f"{process}: {name}" for name, process in CASES])
def test_production_refuses_to_start_and_says_what_to_set(case, process):
    changes, text, _ = BAD[case]
    done = subprocess.run(COMMANDS[process], cwd=ROOT, env=environment(changes), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert text in done.stderr
    assert "Traceback" not in done.stderr
    for secret in (DEMO_KEY, DEMO_PASSWORD):
        assert secret not in done.stderr + done.stdout  # the message names the setting, never its value


def test_the_good_production_settings_are_accepted_by_every_process_reader():
    """The control for the cases above: the same environment unspoilt is read without complaint."""
    from liveagent.settings import Settings as ServiceSettings

    env = environment({})
    service = ServiceSettings.from_env(env)
    assert (service.environment, service.demo_token_endpoint, service.insecure_cookies, service.demo_password) == \
        ("production", False, False, "")
    actions = action_settings.Settings.from_env(env)
    assert (actions.environment, actions.seed_demo_accounts) == ("production", False)
    assert action_settings.ServerSettings.from_env(env).token == ACTION_TOKEN


def test_make_runs_env_is_demo_and_production_refuses_it(tmp_path, monkeypatch, capsys):
    """scripts/ensure_env.py writes LUMO_ENV=demo and demo keys; the same file with LUMO_ENV=production is refused."""
    values = run_ensure_env(tmp_path, monkeypatch)
    ensure_env = load_script("ensure_env")
    assert ensure_env.parse((ROOT / ".env.example").read_text(encoding="utf-8").splitlines())["LUMO_ENV"] == \
        "production"  # copied by hand, the example fails closed
    assert values["LUMO_ENV"] == "demo"
    printed = capsys.readouterr().out
    for name in ensure_env.SECRETS:
        assert values[name] and values[name] not in printed  # names only: no key or password is printed
    assert action_settings.Settings.from_env(values).seed_demo_accounts is True
    with pytest.raises(action_settings.SettingsError, match="LUMO_JWT_KEY is a demo key"):
        action_settings.Settings.from_env({**values, "LUMO_ENV": "production"})


def test_make_run_does_not_print_the_demo_password(monkeypatch):
    run_stack = load_script("run_stack")
    monkeypatch.setenv("LIVEAGENT_DEMO_PASSWORD", "the-demo-password-0123")
    banner = run_stack.banner()
    assert "the-demo-password-0123" not in banner
    assert "LIVEAGENT_DEMO_PASSWORD in .env" in banner  # where to find it instead
    assert "password: LIVEAGENT_DEMO_PASSWORD in .env" in (ROOT / "README.md").read_text(encoding="utf-8")


# the running service in production


@pytest.fixture
def service_env() -> Dict[str, str]:
    """The service fixture (tests/liveagent/conftest.py) in production: GOOD, no demo-only setting at all."""
    return {**GOOD, "LIVEAGENT_DEMO_PASSWORD": ""}


async def create_agent(service, username: str, password: str) -> None:
    done = await service.command("create-agent", "--username", username, "--name", username.title(),
                                 "--password-env", "AGENT_PASSWORD", AGENT_PASSWORD=password)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr


async def test_production_has_no_demo_tokens_no_demo_agents_and_only_secure_cookies(service):
    headers = {"Origin": service.url}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{service.url}/demo/token", json={"customer_id": "LUMO-1001"}) as response:
            assert response.status == 404  # nobody can mint identity tokens with the website's key
        async with session.post(f"{service.url}/api/agent/login",
                                json={"username": "aino", "password": DEMO_PASSWORD}) as response:
            assert response.status == 401  # no demo agents
    await create_agent(service, "helmi", "helmi-password-0123")
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{service.url}/api/agent/login",
                                json={"username": "helmi", "password": "helmi-password-0123"}) as response:
            assert response.status == 200
            set_cookie = response.headers["Set-Cookie"].lower()
    assert "; secure" in set_cookie and "httponly" in set_cookie


def test_production_never_seeds_demo_customers_into_the_accounts_database(tmp_path):
    """The action server pointed at a real accounts database in production leaves it as it is."""
    url = f"sqlite:///{tmp_path}/accounts.sqlite"
    engine = accounts_backend.create_engine(url, 2.0)
    accounts_backend.SqlAccountsBackend(engine, 2.0).create_schema()
    with engine.begin() as connection:
        connection.execute(accounts_backend.customers.insert().values(customer_id="REAL-1", first_name="Oikea",
                                                                      account_locked=False))
    settings = action_settings.Settings.from_env(environment({"LUMO_ACCOUNTS_DATABASE_URL": url}))
    action_settings.override_settings(settings)
    accounts_backend.set_backend(None)
    try:
        import asyncio

        backend = accounts_backend.get_backend()
        assert asyncio.run(backend.get_status("LUMO-1001")) is None  # the fictional demo customer was not written
        assert asyncio.run(backend.get_status("REAL-1")).first_name == "Oikea"
    finally:
        accounts_backend.set_backend(None)
        action_settings.override_settings(None)
    with engine.connect() as connection:
        ids = [row.customer_id for row in connection.execute(accounts_backend.customers.select())]
    assert ids == ["REAL-1"]
    # the control: the same lookup in demo re-seeds the demo customers
    demo = accounts_backend.SqlAccountsBackend(engine, 2.0, seed_demo=True)
    import asyncio

    assert asyncio.run(demo.get_status("LUMO-1001")).first_name == "Aino"


@pytest.mark.parametrize("empty", ["jwt_audience", "jwt_issuer"])
def test_an_empty_audience_or_issuer_never_switches_its_check_off(empty):
    """Even settings built by hand (no from_env) with an empty value: every token is refused, not waved through."""
    import dataclasses

    from lumo_shared.identity import verify_token
    from lumo_shared.settings import IdentitySettings
    from tests.conftest import make_token

    settings = IdentitySettings(jwt_keys=(TEST_KEY,), customer_id_key=CUSTOMER_ID_KEY)
    assert verify_token(make_token("LUMO-1001"), settings).customer_id == "LUMO-1001"  # the control
    blank = dataclasses.replace(settings, **{empty: ""})
    claim = {"jwt_audience": "aud", "jwt_issuer": "iss"}[empty]
    for token in (make_token("LUMO-1001"), make_token("LUMO-1001", **{claim: None})):
        assert verify_token(token, blank) is None
    # and a token without the claim is refused when the check is on
    assert verify_token(make_token("LUMO-1001", **{claim: None}), settings) is None
    name = "LUMO_JWT_AUDIENCE" if claim == "aud" else "LUMO_JWT_ISSUER"
    with pytest.raises(action_settings.SettingsError, match=f"{name} must be set"):
        action_settings.Settings.from_env({"LUMO_ENV": "demo", name: ""})  # in demo too


async def test_in_production_the_console_socket_needs_the_secure_cookie_sent_over_a_secure_origin(service):
    """Production cookies are Secure: a client sends them only to an https/wss origin (here loopback stands in)."""
    await create_agent(service, "helmi", "helmi-password-0123")
    ws_url = service.url.replace("http", "ws", 1) + "/api/agent/ws"
    first_frames = {}
    for name, secure_origins in (("https and wss", [service.url, ws_url]), ("plain http", None)):
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=secure_origins)
        async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": service.url}) as session:
            async with session.post(f"{service.url}/api/agent/login",
                                    json={"username": "helmi", "password": "helmi-password-0123"}) as response:
                assert response.status == 200
            async with session.ws_connect(ws_url, headers={"Origin": service.url}) as socket:
                frame = await socket.receive(timeout=10)
                first_frames[name] = (frame.type, frame.data if frame.type == aiohttp.WSMsgType.CLOSE else None)
    assert first_frames["https and wss"][0] == aiohttp.WSMsgType.TEXT  # the console's first event
    assert first_frames["plain http"] == (aiohttp.WSMsgType.CLOSE, 4401)  # the cookie never left the client
