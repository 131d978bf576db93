"""The action server: rasa_sdk's app, reachable only by our Rasa.

    python -m actions.server [--port 5055] [--host 127.0.0.1] [--actions actions]

Serves the app `python -m rasa_sdk` serves (``rasa_sdk.endpoint.create_app``), with what that
command leaves open closed:

- it listens on loopback unless ACTION_SERVER_HOST (or --host) says otherwise (rasa_sdk: 0.0.0.0);
- every route except /health needs ``Authorization: Bearer <ACTION_SERVER_TOKEN>``, compared in
  constant time; Rasa sends the header from endpoints.yml (``action_endpoint.headers``);
- it refuses to start without a token of at least 32 characters;
- request bodies are bounded (ACTION_SERVER_MAX_BODY_BYTES), deflate-compressed ones after inflating
  too (rasa_sdk inflates without a limit);
- no CORS: only Rasa calls it, server to server (rasa_sdk allows every origin);
- personal data in every log record is masked (``lumo_shared.privacy.install_log_masking``, installed
  first in ``main``: importing the actions has no such side effect);
- errors never echo the request. rasa_sdk's own handler logs the request with a full traceback and
  answers 500 with the whole tracker (``request_body``), which Rasa then writes into its own log.
  Here an error answers with a short JSON body, and every traceback this process logs is reduced to
  the exception's type and the frames it passed through: exception messages quote SQL parameters,
  slot values and what the visitor wrote.
"""

from __future__ import annotations

import argparse
import hmac
import http
import logging
import re
import sys
import traceback
import types
import zlib
from pathlib import PurePath
from typing import Any, Optional, Sequence, Union

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import ServerSettings, Settings, SettingsError, override_settings
from lumo_shared.privacy import install_log_masking

logger = logging.getLogger("actions.server")  # also when run as __main__

DEFAULT_PORT = 5055
OPEN_PATHS = frozenset({"/health"})
_ACTION_NAME = re.compile(r"[A-Za-z0-9_]{1,80}")


def describe_exception(error: BaseException) -> str:
    """The exception's type and where it was raised, innermost frame first; never its message."""
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    where = " <- ".join(f"{'/'.join(PurePath(f.filename).parts[-2:])}:{f.lineno} in {f.name}"
                        for f in reversed(frames))
    return f"{type(error).__name__} at {where}" if where else type(error).__name__


class _TracebacksWithoutMessages:
    """Log-record factory: a record's traceback becomes ``describe_exception`` of its exception."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._inner(*args, **kwargs)
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters use exc_text when it is set (lumo_shared.privacy sets a masked full traceback).
            record.exc_text = f"(traceback without messages) {describe_exception(record.exc_info[1])}"
        return record


def install_quiet_tracebacks() -> None:
    """Every traceback this process logs shows types and frames only (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _TracebacksWithoutMessages):
        logging.setLogRecordFactory(_TracebacksWithoutMessages(factory))


def _action_name(request: Request) -> str:
    try:
        name = (request.json or {}).get("next_action")
    except Exception:  # noqa: BLE001 - a body that is not JSON names no action
        return "?"
    return name if isinstance(name, str) and _ACTION_NAME.fullmatch(name) else "?"


def _error(status: int, **extra: Any) -> HTTPResponse:
    return response.json({"error": http.HTTPStatus(status).phrase.lower(), **extra}, status=status)


def create_app(settings: ServerSettings, actions_package: Union[str, types.ModuleType] = "actions") -> Sanic:
    """rasa_sdk's app with authentication, bounded bodies and quiet errors."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    app = create_sdk_app(actions_package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    expected = f"Bearer {settings.token}".encode()

    @app.middleware("request")
    async def authenticate(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("authorization", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
        return None

    @app.middleware("request")
    async def inflate_bounded(request: Request) -> Optional[HTTPResponse]:
        """Rasa deflates the action call when COMPRESS_ACTION_SERVER_REQUEST is set; inflate it here,
        bounded, so rasa_sdk's handler finds a plain body."""
        if request.headers.get("content-encoding", "").lower() != "deflate":
            return None
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(request.body, settings.max_body_bytes + 1)
        except zlib.error:
            return _error(400)
        if len(body) > settings.max_body_bytes or inflater.unconsumed_tail:
            return _error(413)
        request.body = body
        del request.headers["content-encoding"]
        return None

    # Replaces rasa_sdk's handler for Exception (one handler per exception class).
    @app.exception(Exception)
    async def quiet_errors(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException):  # invalid JSON, unknown route, body too large...
            return _error(getattr(exception, "status_code", 500) or 500)
        action = _action_name(request)
        logger.error("Action %s failed: %s", action, describe_exception(exception))
        return _error(500, action_name=action)

    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    # First, so that every record this process logs is masked (what visitors write reaches exception
    # messages and log lines); quiet tracebacks below then replace the masked traceback text.
    install_log_masking()
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", help="address to listen on (default: ACTION_SERVER_HOST or 127.0.0.1)")
    parser.add_argument("--actions", default="actions", help="package of the actions (default: actions)")
    utils.add_logging_level_option_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = ServerSettings.from_env()
        # The actions' own settings, read now: a production misconfiguration stops the start,
        # not the first logged-in visitor's turn.
        override_settings(Settings.from_env())
    except SettingsError as error:
        print(f"Action server not started: {error}", file=sys.stderr)
        return 2
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    install_quiet_tracebacks()
    app = create_app(settings, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host = args.host or settings.host
    logger.info("Action server on http://%s:%d (bearer token required)", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers(), access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
