"""The service's log configuration (liveagent/__main__.py configure_logging): what operators read."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROGRAM = """
import logging
from liveagent.__main__ import configure_logging
from liveagent.app import create_app
from liveagent.settings import Settings

configure_logging()
create_app(Settings.from_env({"LIVEAGENT_SECRET": "s" * 40, "LUMO_ENV": "demo"}))
logging.getLogger("sanic.error").info("connection open")  # what the websockets library says per socket
logging.getLogger("sanic.error").error("opening handshake failed")
logging.getLogger("liveagent.app").info("service started")
"""


def test_websocket_connections_are_not_logged_one_by_one_and_errors_are_logged_once():
    """Sanic passes its error logger to the websockets library, which says "connection open" for every
    visitor socket at INFO. The process's configuration, with the app built as ``serve`` builds it,
    drops those; warnings and errors are logged once each, in the service's format; its own INFO stays."""
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "connection open" not in result.stderr + result.stdout
    assert result.stderr.count("opening handshake failed") == 1
    assert "ERROR sanic.error: opening handshake failed" in result.stderr
    assert "INFO liveagent.app: service started" in result.stderr
