"""Memory is given back after every model load."""

from __future__ import annotations

from rasa.core.agent import Agent

from rasa_runtime import memory


def test_every_model_load_is_followed_by_a_release(monkeypatch):
    calls = []
    monkeypatch.setattr(Agent, "load_model", lambda self, path, fingerprint=None: calls.append(("load", path)))
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append(("release", None)))
    memory.install()
    Agent.load_model(Agent(), "models/x.tar.gz")
    assert calls == [("load", "models/x.tar.gz"), ("release", None)]

