"""Security tests run the real service against the fake Rasa, with the live-agent tests' fixtures."""

from __future__ import annotations

from tests.liveagent.conftest import async_service, make_agent, service, service_env, visitors  # noqa: F401 - fixtures
