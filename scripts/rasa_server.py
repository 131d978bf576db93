"""Start `rasa run` with its JWT secret taken from the environment, batched NLU and off-loop model loads.

Rasa 3.6 reads `--jwt-secret` only as a command-line argument, which every local user can see in
`ps`. This wrapper builds Rasa's argv inside the process from RASA_JWT_SECRET, so the secret never
appears in the process list. It also installs rasa_runtime: concurrent messages are parsed in one
NLU batch off the event loop (rasa_runtime/batching.py), `PUT /model` loads the new model in a
worker thread (rasa_runtime/model_loading.py) and memory only loading needed goes back to the
system (rasa_runtime/memory.py).
Usage: python scripts/rasa_server.py [other `rasa run` arguments]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    secret = os.environ.get("RASA_JWT_SECRET")
    if not secret:
        sys.exit("RASA_JWT_SECRET is not set (make run writes one to .env)")
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", "--jwt-secret", secret, "--jwt-method", "HS256"]
    sys.path.insert(0, str(ROOT))
    from rasa_runtime import batching, memory, model_loading

    model_loading.install()
    batching.install()
    memory.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
