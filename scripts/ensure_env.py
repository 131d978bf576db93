"""Create or complete .env from .env.example, filling secrets with fresh random values.

Secrets are never committed: each installation gets its own. An existing .env keeps its values;
settings added to .env.example since it was written are appended.

This is `make run`'s .env, a demo: it says LUMO_ENV=demo (the example says production, the default),
and every key it generates starts with ``demo-``, so a production process given this file refuses
to start (lumo_shared/settings.py). Nothing secret is printed: the demo agents' password stays in .env.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"LUMO_JWT_KEY": 48, "LIVEAGENT_SECRET": 48, "RASA_JWT_SECRET": 48, "ACTION_SERVER_TOKEN": 48,
           "LUMO_CUSTOMER_ID_KEY": 48, "LIVEAGENT_DEMO_PASSWORD": 12, "LIVEAGENT_METRICS_TOKEN": 48}
# make run's values where .env.example shows production's
# (the console opens under both loopback names; production's console is the public URL's origin)
DEMO_VALUES = {"LUMO_ENV": "demo", "LIVEAGENT_CONSOLE_ORIGINS": "http://localhost:8000,http://127.0.0.1:8000"}
DEMO_KEY_PREFIX = "demo-"  # lumo_shared.settings.DEMO_SECRET_PREFIX: production refuses such keys


def generated(key: str) -> str:
    value = secrets.token_urlsafe(SECRETS[key])
    return value if key == "LIVEAGENT_DEMO_PASSWORD" else DEMO_KEY_PREFIX + value


def parse(lines: List[str]) -> Dict[str, str]:
    values = {}
    for line in lines:
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def main() -> int:
    target = ROOT / ".env"
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    existing_lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
    existing = parse(existing_lines)
    added = []
    for key, default in parse(example).items():
        if existing.get(key):
            continue
        value = generated(key) if key in SECRETS else DEMO_VALUES.get(key, default)
        if key in existing:  # present but empty: only secrets get filled
            if key not in SECRETS:
                continue
            existing_lines = [line for line in existing_lines if not line.startswith(f"{key}=")]
        existing_lines.append(f"{key}={value}")
        added.append(key)
    if added:
        target.write_text("\n".join(existing_lines) + "\n", encoding="utf-8")
        target.chmod(0o600)
        print(f".env: added {', '.join(added)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
