"""Mint an identity token for a FICTIONAL demo customer, as the website would for a logged-in user.

Usage: python scripts/demo_token.py LUMO-1001 [--minutes 30]
Uses LUMO_JWT_KEY from .env (HS256 demo setup only).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lumo_shared.identity import issue_token  # noqa: E402
from lumo_shared.settings import IdentitySettings  # noqa: E402


def mint(customer_id: str, key: str, minutes: int = 30, algorithm: str = "HS256") -> str:
    settings = IdentitySettings.from_env()
    return issue_token(customer_id, key, algorithm, settings.jwt_audience, settings.jwt_issuer, minutes)


def main() -> int:
    load_dotenv(ROOT / ".env")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customer_id")
    parser.add_argument("--minutes", type=int, default=30)
    args = parser.parse_args()
    key = os.environ.get("LUMO_JWT_KEY")
    if not key:
        print("LUMO_JWT_KEY is not set: run `make run` once, or copy .env.example to .env", file=sys.stderr)
        return 2
    print(mint(args.customer_id, key, args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
