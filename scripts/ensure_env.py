"""Create .env from .env.example on first run, with a fresh random JWT key (never committed)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    target = ROOT / ".env"
    if target.exists():
        return 0
    lines = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        for name in ("LUMO_JWT_KEY", "LIVEAGENT_SECRET", "RASA_JWT_SECRET", "LIVEAGENT_DEMO_PASSWORD"):
            if line == f"{name}=":
                line = f"{name}={secrets.token_urlsafe(12 if name.endswith('PASSWORD') else 48)}"
        lines.append(line)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target.chmod(0o600)
    print("Created .env with new random secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
