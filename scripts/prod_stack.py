"""`make run-prod`: the production profile rehearsed on one machine (docs/deploy.md).

The processes are stack/production.py's ``plan`` (two Rasa replicas, one action server, two service
replicas on PostgreSQL and Redis, nginx in front on the demo site's port), run by stack/processes.py;
the tests in tests/production start the same processes on free ports.

The rehearsal's own secrets are generated once into var/prod/secrets.env; its agents aino,
ville (supervisor) and eeva (editor) are created with `python -m liveagent create-agent`, with the
password LIVEAGENT_DEMO_PASSWORD in .env (never printed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.processes import supervise  # noqa: E402
from stack.production import Layout, create_agents, ensure_database, nginx_spec, plan, rehearsal_secrets  # noqa: E402

READY_SECONDS = 300


def main() -> int:
    from dotenv import dotenv_values

    env = {**os.environ, **{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}}
    layout = Layout()
    var = ROOT / "var" / "prod"
    var.mkdir(parents=True, exist_ok=True)
    password = env.get("LIVEAGENT_DEMO_PASSWORD", "")
    if len(password) < 10:
        print("LIVEAGENT_DEMO_PASSWORD in .env (the rehearsal agents' password) must be at least 10 characters; "
              "`make run` writes one", file=sys.stderr)
        return 1
    env.update(rehearsal_secrets(var / "secrets.env"))
    env["LIVEAGENT_DATABASE_URL"] = layout.service_database_url
    try:
        ensure_database(layout)
        create_agents(env, password)
    except Exception as error:  # noqa: BLE001 - told to the operator in one line
        print(f"The rehearsal's database is not ready ({layout.pg}): {error}", file=sys.stderr)
        return 1
    processes = plan(layout, env) + [nginx_spec(layout, var / "nginx")]
    banner = (
        "\n  Lumo production rehearsal is running.\n"
        f"  Demo site (nginx):  {layout.public_url}/\n"
        f"  Service replicas:   {', '.join(layout.service_url(i) for i in range(len(layout.services)))}"
        " (the first also serves the editor)\n"
        f"  Agents:             {layout.public_url}/agent   users aino, ville (supervisor), eeva (editor),"
        " password LIVEAGENT_DEMO_PASSWORD in .env\n"
        "  LUMO_ENV=production: no demo customer login; secrets in var/prod/secrets.env\n"
        f"  Rasa replicas:      {', '.join(layout.rasa_urls)} (loopback only, JWT)\n"
        f"  PostgreSQL:         {layout.pg} databases {layout.service_db}, {layout.rasa_db}\n"
        f"  Redis:              {layout.redis_url}\n"
        "  Stop:               Ctrl-C\n"
    )
    return supervise(processes, banner, "The rehearsal", READY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
