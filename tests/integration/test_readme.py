"""The conversation printed in README.md works exactly as printed."""

from __future__ import annotations

import importlib.util
import re
import uuid

import pytest

from tests.conftest import CUSTOMER_ID_KEY, ROOT

pytestmark = pytest.mark.integration

spec = importlib.util.spec_from_file_location("chat", ROOT / "scripts" / "chat.py")


def readme_conversation():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- conversation: (\S+) -->\n```text\n(.*?)```\n<!-- /conversation -->", text, re.S)
    assert match, "README.md has no conversation block"
    customer, body = match.group(1), match.group(2)
    turns, current = [], None
    for line in body.splitlines():
        if line.startswith("> "):
            current = (line[2:], [])
            turns.append(current)
        else:
            assert current is not None, f"bot line before any visitor line: {line!r}"
            current[1].append(line)
    return customer, turns


def test_readme_conversation_is_exact(stack, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    chat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chat)
    customer, turns = readme_conversation()
    assert len(turns) >= 4
    sender = f"readme-{uuid.uuid4().hex}"
    for said, expected in turns:
        metadata = chat.customer_metadata(customer, sender, CUSTOMER_ID_KEY)
        got = chat.render(chat.send(f"{stack.rasa_url}/webhooks/rest/webhook", sender, said, metadata))
        assert got == expected, f"after {said!r}"
