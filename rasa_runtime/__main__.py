"""`python -m rasa_runtime [rasa run arguments]`: `rasa run` with its JWT secret taken from the
environment, batched NLU and off-loop model loads.

It refuses to start (exit 2) on a Rasa release other than RASA_VERSION: every module of this package
patches Rasa internals of that release (version.py, shared with rasa_runtime.train). Rasa 3.6 reads
`--jwt-secret` only as a command-line argument, which every local user can see in `ps`. This entry
point builds Rasa's argv inside the process from RASA_JWT_SECRET, so the secret never appears in the
process list. It also installs rasa_runtime: concurrent messages are parsed in one NLU batch off the
event loop (batching.py), `PUT /model` loads the new model in a worker thread (model_loading.py),
memory only loading needed goes back to the system (memory.py) and calls to the action server give
up after RASA_ACTION_TIMEOUT_SECONDS (default 3.5), well inside the conversation lock
(action_calls.py). The API takes the JWT in the Authorization header only: `--auth-token` (a token
in the URL) is refused, and so is every invalid JWT, with 401 (api_auth.py).
`DELETE /conversations/<id>/tracker` deletes a conversation from the tracker store, for erasure and
retention (erasure.py). Each bot message of the REST channel carries the topic it answers and the
model's id (answer_labels.py). TensorFlow is never imported: our graph has no neural model, and Rasa would
otherwise load it (~420 MB, ~10 s of start-up) for nothing (no_tensorflow.py).
"""

from __future__ import annotations

import os
import sys

from rasa_runtime.version import installed_rasa_version, version_check

RASA_REQUEST_MAX_BYTES = 1024 * 1024


def production_check() -> None:
    """LUMO_ENV=production (the default): no demo or short secret for Rasa's API or the action server; exit 2."""
    from lumo_shared.settings import SettingsError, check_production_secret, read_environment

    try:
        if read_environment(os.environ) == "production":
            check_production_secret("RASA_JWT_SECRET", os.environ.get("RASA_JWT_SECRET", ""),
                                    "(the same value for the live-agent service)")
            check_production_secret("ACTION_SERVER_TOKEN", os.environ.get("ACTION_SERVER_TOKEN", ""),
                                    "(the same value for the action server)")
    except SettingsError as error:
        print(f"Rasa server not started: {error}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    version_check(installed_rasa_version())
    production_check()
    from lumo_shared.privacy import install_log_masking

    install_log_masking()  # Rasa logs what visitors wrote (debug lines, exceptions): personal data masked
    secret = os.environ.get("RASA_JWT_SECRET")
    if not secret:
        sys.exit("RASA_JWT_SECRET is not set (make run writes one to .env)")
    # Sanic's default body limit is 100 MB; Rasa's callers (the service, publishing) send small JSON.
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(RASA_REQUEST_MAX_BYTES))
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", "--jwt-secret", secret, "--jwt-method", "HS256"]
    from rasa_runtime import no_tensorflow

    no_tensorflow.install()  # before anything imports Rasa
    model = next((sys.argv[i + 1] for i, arg in enumerate(sys.argv[:-1]) if arg in ("--model", "-m")), None)
    if model and os.path.isfile(model):
        needing = no_tensorflow.tensorflow_components_in_archive(model)
        if needing:
            sys.exit(no_tensorflow.MESSAGE.format(what=f"{model} uses {', '.join(needing)}"))
    from rasa_runtime import action_calls, answer_labels, api_auth, batching, erasure, memory, model_loading

    try:
        action_timeout = float(os.environ.get("RASA_ACTION_TIMEOUT_SECONDS") or action_calls.DEFAULT_TIMEOUT_SECONDS)
    except ValueError:
        sys.exit("RASA_ACTION_TIMEOUT_SECONDS must be a number of seconds")
    try:
        action_calls.install(action_timeout)
    except ValueError as error:
        sys.exit(str(error))
    model_loading.install()
    batching.install()
    memory.install()
    api_auth.install()
    erasure.install()
    answer_labels.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
