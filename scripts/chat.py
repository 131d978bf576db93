"""Chat with the running assistant from a terminal over Rasa's REST channel.

    python scripts/chat.py                      # anonymous visitor
    python scripts/chat.py --customer LUMO-1001 # logged in as a fictional demo customer

Bot buttons are printed as "[title]"; type the title's payload or anything else. Logged in, each
message carries the customer id signed with LUMO_CUSTOMER_ID_KEY from .env, as the live-agent service
forwards a verified customer to Rasa (lumo_shared/identity.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from dotenv import load_dotenv

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from liveagent import copy  # noqa: E402
from lumo_shared.identity import CUSTOMER_METADATA_KEY, sign_customer_id  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def customer_metadata(customer_id: str, sender: str, key: str) -> Dict[str, Any]:
    """What the service puts in a verified customer's message metadata (signed for this conversation)."""
    return {CUSTOMER_METADATA_KEY: sign_customer_id(customer_id, sender, key)}


def send(url: str, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    body: Dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def render(messages: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(f"Botti: {message['text']}")
        for button in message.get("buttons") or []:
            lines.append(f"  [{button['title']}]")
        handoff = (message.get("custom") or {}).get("handoff")
        if handoff:
            lines.append(f"  (handoff signal: {handoff['reason']}; the bot is now paused)")
    return lines


def main() -> int:
    load_dotenv(ROOT / ".env")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    parser.add_argument("--customer", help="fictional demo customer id, e.g. LUMO-1001")
    args = parser.parse_args()
    key = os.environ.get("LUMO_CUSTOMER_ID_KEY", "")
    if args.customer and not key:
        print("LUMO_CUSTOMER_ID_KEY is not set: run `make run` once (it writes .env)", file=sys.stderr)
        return 2
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("Kirjoita viesti (Ctrl-D lopettaa).")
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        text = line.strip()
        if not text:
            continue
        metadata = customer_metadata(args.customer, sender, key) if args.customer else None
        messages = send(args.url, sender, text, metadata)
        if not messages:  # Rasa answers nothing when an action failed; the service would apologise
            print(f"Botti: {copy.text('status.action_failed')}")
        for out in render(messages):
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
