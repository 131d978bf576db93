"""Start the whole stack for `make run`, say where to talk to it, stop it all on Ctrl-C.

Processes: the action server (:5055), the Rasa server (:5005, loopback only, HTTP API behind JWT)
and the live-agent service (:8000: demo site, widget, agent console). Each runs from the project's
virtualenv with the settings in .env. If any process dies, the others are stopped too.
No password is printed (terminals are logged and shared): the demo agents' password is
LIVEAGENT_DEMO_PASSWORD in .env, which only its owner can read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.processes import Process, supervise  # noqa: E402

MODEL = ROOT / "models" / "lumo.tar.gz"
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
SERVICE_PORT = int(os.environ.get("LIVEAGENT_PORT", "8000"))
READY_SECONDS = 180


def processes(env: Dict[str, str]) -> List[Process]:
    """The stack in start order, each writing to this terminal."""
    return [
        # rasa_sdk's app behind ACTION_SERVER_TOKEN on loopback (actions/server.py), without the Rasa
        # CLI (`rasa run actions` takes twice the memory).
        Process("actions", [sys.executable, "-m", "actions.server", "--port", str(ACTIONS_PORT)], env,
                f"http://127.0.0.1:{ACTIONS_PORT}/health"),
        Process("rasa", [sys.executable, "-m", "rasa_runtime", "--model", str(MODEL), "--port", str(RASA_PORT),
                         "--interface", "127.0.0.1", "--endpoints", "endpoints.yml",
                         "--credentials", "credentials.yml"],
                env, f"http://127.0.0.1:{RASA_PORT}/"),
        Process("liveagent", [sys.executable, "-m", "liveagent", "serve"], env,
                f"http://127.0.0.1:{SERVICE_PORT}/health"),
    ]


def banner() -> str:
    """What `make run` prints once the stack answers: where to go, never a password."""
    return (
        "\n"
        "  Lumo assistant is running (fictional demo agency).\n"
        f"  Demo site:    http://localhost:{SERVICE_PORT}/   (chat widget bottom right)\n"
        f"  Agents:       http://localhost:{SERVICE_PORT}/agent   users aino, ville (supervisor), eeva (editor)\n"
        "                password: LIVEAGENT_DEMO_PASSWORD in .env (grep LIVEAGENT_DEMO_PASSWORD .env)\n"
        f"  Terminal:     .venv/bin/python scripts/chat.py\n"
        f"  Logged in:    .venv/bin/python scripts/chat.py --customer LUMO-1001\n"
        f"  REST channel: http://localhost:{RASA_PORT}/webhooks/rest/webhook\n"
        "  Stop:         Ctrl-C\n"
    )


def main() -> int:
    env = {**os.environ, **{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    (ROOT / "var").mkdir(exist_ok=True)
    return supervise(processes(env), banner(), "The stack", READY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
