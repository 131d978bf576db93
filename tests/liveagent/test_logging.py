"""The service's log configuration (liveagent/__main__.py configure_logging): what operators read."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_websocket_connections_are_not_logged_one_by_one_but_errors_are():
    """Sanic passes its error logger to the websockets library, which says "connection open" for every
    visitor socket at INFO; the service's own INFO lines and everyone's warnings and errors stay."""
    program = ("import logging; from liveagent.__main__ import configure_logging; configure_logging(); "
               "logging.getLogger('sanic.error').info('connection open'); "
               "logging.getLogger('sanic.error').error('opening handshake failed'); "
               "logging.getLogger('liveagent.app').info('service started')")
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "connection open" not in result.stderr
    assert "ERROR sanic.error: opening handshake failed" in result.stderr
    assert "INFO liveagent.app: service started" in result.stderr
