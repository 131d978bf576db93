"""Start `rasa run` with its JWT secret taken from the environment, not the command line.

Rasa 3.6 reads `--jwt-secret` only as a command-line argument, which every local user can see in
`ps`. This wrapper builds Rasa's argv inside the process from RASA_JWT_SECRET, so the secret never
appears in the process list. Usage: python scripts/rasa_server.py [other `rasa run` arguments]
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    secret = os.environ.get("RASA_JWT_SECRET")
    if not secret:
        sys.exit("RASA_JWT_SECRET is not set (make run writes one to .env)")
    sys.argv = ["rasa", "run", *sys.argv[1:], "--enable-api", "--jwt-secret", secret, "--jwt-method", "HS256"]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
