"""The production profile's processes on one machine: what `make run-prod` runs (scripts/prod_stack.py)
and tests/production starts on free ports (docs/deploy.md).

PostgreSQL and Redis (already running locally), two Rasa replicas sharing the tracker store
(PostgreSQL) and the lock store (Redis), one action server, two live-agent service replicas sharing
PostgreSQL and Redis, and nginx in front of the services. The first service replica is also the
content replica (editing and publishing). Every process runs with LUMO_ENV=production, as in a
deployment: no demo customer tokens, no demo agents, no demo customers seeded, Secure cookies, and
none of `make run`'s demo keys (they would be refused).
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from stack.processes import ROOT, Process

MODEL = ROOT / "models" / "lumo.tar.gz"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "rehearsal.conf.template"
# Demo-only settings (LUMO_ENV=demo); a production process refuses them, so they never reach one.
DEMO_ONLY = ("LIVEAGENT_DEMO_PASSWORD", "LIVEAGENT_DEMO_TOKENS", "LIVEAGENT_INSECURE_COOKIES",
             "LUMO_SEED_DEMO_ACCOUNTS")
# The secrets a production deployment sets itself (make run's are demo keys, refused in production).
PRODUCTION_SECRETS = ("LUMO_JWT_KEY", "LIVEAGENT_SECRET", "RASA_JWT_SECRET", "ACTION_SERVER_TOKEN",
                      "LUMO_CUSTOMER_ID_KEY")
AGENTS = (("aino", "Aino", "agent"), ("ville", "Ville", "supervisor"), ("eeva", "Eeva", "editor"))


@dataclass(frozen=True)
class Layout:
    """Where everything listens and which databases it uses."""

    nginx: int = 8000
    rasa: Sequence[int] = (5005, 5006)
    actions: int = 5055
    services: Sequence[int] = (8001, 8002)
    pg: str = "postgres@127.0.0.1:5432"
    service_db: str = "lumo"
    rasa_db: str = "lumo_rasa"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    public_url: str = "http://localhost:8000"

    @property
    def service_database_url(self) -> str:
        return f"postgresql+asyncpg://{self.pg}/{self.service_db}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def rasa_urls(self) -> List[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa]

    def service_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.services[index]}"


def ensure_database(layout: Layout) -> None:
    """The service's database exists (Rasa creates its own through its login_db)."""
    import psycopg2

    user_host = layout.pg.split("@")
    user, host_port = (user_host[0], user_host[1]) if len(user_host) == 2 else ("postgres", user_host[0])
    host, _, port = host_port.partition(":")
    connection = psycopg2.connect(host=host, port=int(port or 5432), user=user, dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (layout.service_db,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{layout.service_db}"')
    finally:
        connection.close()


def plan(layout: Layout, base_env: Mapping[str, str], logs: Optional[Path] = None) -> List[Process]:
    """Every process of the rehearsal but nginx, in start order (not started)."""
    python = sys.executable
    user, _, host_port = layout.pg.rpartition("@")
    db_host, _, db_port = host_port.partition(":")
    env = production_env(base_env)
    processes: List[Process] = []

    def log(name: str) -> Optional[Path]:
        return logs / f"{name}.log" if logs else None

    processes.append(Process(
        "actions", [python, "-m", "actions.server", "--port", str(layout.actions)],
        {**env, "LUMO_LIVEAGENT_URL": layout.service_url(0)},
        f"http://127.0.0.1:{layout.actions}/health", log("actions"),
    ))
    rasa_env = {
        **env,
        "RASA_ACTIONS_URL": f"http://127.0.0.1:{layout.actions}/webhook",
        "RASA_TRACKER_DB_HOST": db_host, "RASA_TRACKER_DB_PORT": db_port or "5432",
        "RASA_TRACKER_DB": layout.rasa_db, "RASA_TRACKER_DB_USER": user or "postgres",
        "RASA_TRACKER_DB_PASSWORD": env.get("RASA_TRACKER_DB_PASSWORD", ""),
        "RASA_TRACKER_LOGIN_DB": "postgres",
        "RASA_REDIS_HOST": layout.redis_host, "RASA_REDIS_PORT": str(layout.redis_port),
        "RASA_REDIS_DB": str(layout.redis_db), "RASA_REDIS_PASSWORD": env.get("RASA_REDIS_PASSWORD", ""),
    }
    for index, port in enumerate(layout.rasa):
        processes.append(Process(
            f"rasa-{index + 1}",
            [python, "-m", "rasa_runtime", "--model", str(MODEL), "--port", str(port),
             "--interface", "127.0.0.1", "--endpoints", str(ROOT / "endpoints.prod.yml"),
             "--credentials", str(ROOT / "credentials.yml")],
            rasa_env, f"http://127.0.0.1:{port}/", log(f"rasa-{index + 1}"),
        ))
    for index, port in enumerate(layout.services):
        processes.append(Process(
            f"liveagent-{index + 1}", [python, "-m", "liveagent", "serve"],
            {
                **env,
                "LIVEAGENT_HOST": "127.0.0.1", "LIVEAGENT_PORT": str(port),
                "LIVEAGENT_PUBLIC_URL": layout.public_url,
                "LIVEAGENT_DATABASE_URL": layout.service_database_url,
                "LIVEAGENT_REDIS_URL": layout.redis_url,
                "LIVEAGENT_RASA_URL": ",".join(layout.rasa_urls),
                "LIVEAGENT_TRUSTED_PROXIES": "127.0.0.1",
                # the first replica owns content editing and publishing (nginx routes the editor to it)
                "LIVEAGENT_CONTENT_REPLICA": "1" if index == 0 else "0",
            },
            f"http://127.0.0.1:{port}/health", log(f"liveagent-{index + 1}"),
        ))
    return processes


def production_env(base_env: Mapping[str, str]) -> Dict[str, str]:
    """``base_env`` as every production process gets it: LUMO_ENV=production, no demo-only setting."""
    env = {key: value for key, value in base_env.items() if key not in DEMO_ONLY}
    return {**env, "LUMO_ENV": "production", "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}


def rehearsal_secrets(path: Path) -> Dict[str, str]:
    """The rehearsal's production secrets: generated once into ``path`` (mode 0600), then reused."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(path).items() if v} if path.exists() else {}
    missing = [name for name in PRODUCTION_SECRETS if not values.get(name)]
    if missing:
        values.update({name: secrets.token_urlsafe(48) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name}={values[name]}\n" for name in PRODUCTION_SECRETS), encoding="utf-8")
        path.chmod(0o600)
    return {name: values[name] for name in PRODUCTION_SECRETS}


def create_agents(env: Mapping[str, str], password: str) -> None:
    """The rehearsal's agents, as an operator adds them (`python -m liveagent create-agent`); idempotent."""
    for username, name, role in AGENTS:
        done = subprocess.run(
            [sys.executable, "-m", "liveagent", "create-agent", "--username", username, "--name", name,
             "--role", role, "--password-env", "LUMO_REHEARSAL_PASSWORD"],
            cwd=ROOT, env={**production_env(env), "LUMO_REHEARSAL_PASSWORD": password},
            capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0 and "is taken" not in done.stderr:
            raise RuntimeError(f"create-agent {username} failed:\n{done.stderr[-2000:]}")


def nginx_spec(layout: Layout, prefix: Path) -> Process:
    """nginx in front of the service replicas, configured from deploy/nginx/rehearsal.conf.template."""
    prefix.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(string.Template(NGINX_TEMPLATE.read_text()).substitute(
        PREFIX=str(prefix), LISTEN_PORT=str(layout.nginx),
        SERVICE_1=f"127.0.0.1:{layout.services[0]}", SERVICE_2=f"127.0.0.1:{layout.services[1]}",
    ))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx, "-e", "stderr", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    return Process("nginx", command, dict(os.environ), f"http://127.0.0.1:{layout.nginx}/health",
                   prefix / "logs" / "nginx.out")
