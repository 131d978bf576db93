"""`make run-prod`: the production profile rehearsed on one machine (docs/deploy.md).

PostgreSQL and Redis (already running locally), two Rasa replicas sharing the tracker store
(PostgreSQL) and the lock store (Redis), one action server, two live-agent service replicas sharing
PostgreSQL and Redis, and nginx in front of the services on the demo site's port. The first service
replica is also the content replica (editing and publishing). The tests in tests/production start
the same processes from ``plan()`` on free ports.

Every process runs with LUMO_ENV=production, as in a deployment: no demo customer tokens, no demo
agents, no demo customers seeded, Secure cookies, and none of `make run`'s demo keys (they would be
refused). The rehearsal's own secrets are generated once into var/prod/secrets.env; its agents aino,
ville (supervisor) and eeva (editor) are created with `python -m liveagent create-agent`, with the
password LIVEAGENT_DEMO_PASSWORD in .env (never printed).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
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


@dataclass
class Spec:
    """One process of the rehearsal."""

    name: str
    command: List[str]
    env: Dict[str, str]
    ready_url: str
    log: Optional[Path] = None
    proc: Optional[subprocess.Popen] = field(default=None, repr=False)

    def start(self) -> subprocess.Popen:
        out = self.log.open("a") if self.log else None
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT if out else None, start_new_session=True)
        return self.proc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


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


def plan(layout: Layout, base_env: Mapping[str, str], logs: Optional[Path] = None) -> List[Spec]:
    """Every process of the rehearsal, in start order (not started)."""
    python = sys.executable
    user, _, host_port = layout.pg.rpartition("@")
    db_host, _, db_port = host_port.partition(":")
    env = production_env(base_env)
    specs: List[Spec] = []

    def log(name: str) -> Optional[Path]:
        return logs / f"{name}.log" if logs else None

    specs.append(Spec(
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
        specs.append(Spec(
            f"rasa-{index + 1}",
            [python, str(ROOT / "scripts" / "rasa_server.py"), "--model", str(MODEL), "--port", str(port),
             "--interface", "127.0.0.1", "--endpoints", str(ROOT / "endpoints.prod.yml"),
             "--credentials", str(ROOT / "credentials.yml")],
            rasa_env, f"http://127.0.0.1:{port}/", log(f"rasa-{index + 1}"),
        ))
    for index, port in enumerate(layout.services):
        specs.append(Spec(
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
    return specs


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


def nginx_spec(layout: Layout, prefix: Path) -> Spec:
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
    return Spec("nginx", command, dict(os.environ), f"http://127.0.0.1:{layout.nginx}/health",
                prefix / "logs" / "nginx.out")


def wait_ready(specs: Sequence[Spec], timeout: float = 300) -> None:
    """Returns once every process answers its ready URL; RuntimeError when one dies or time runs out."""
    deadline = time.monotonic() + timeout
    for spec in specs:
        while True:
            if not spec.alive():
                tail = spec.log.read_text()[-3000:] if spec.log and spec.log.exists() else ""
                raise RuntimeError(f"{spec.name} exited before it was ready\n{tail}")
            try:
                with urllib.request.urlopen(spec.ready_url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{spec.name} not ready at {spec.ready_url} after {timeout:.0f} s") from None
                time.sleep(0.5)


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
    specs = plan(layout, env) + [nginx_spec(layout, var / "nginx")]
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for spec in specs:
            spec.start()
        wait_ready(specs)
        print(
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
            "  Stop:               Ctrl-C\n",
            flush=True,
        )
        while not stopping:
            for spec in specs:
                if not spec.alive():
                    print(f"\n{spec.name} exited; stopping.", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as error:
        print(f"\nThe rehearsal did not come up: {error}", file=sys.stderr)
        return 1
    finally:
        for spec in reversed(specs):
            spec.stop()


if __name__ == "__main__":
    sys.exit(main())
