"""Calls to the action server end well before the conversation's lock does.

Rasa 3.6 calls a custom action with ``timeout=DEFAULT_REQUEST_TIMEOUT`` (300 s, hard-coded in
``rasa.core.actions.action.RemoteAction.run``; no setting changes it), while the ticket lock that
makes a conversation's messages wait for each other lives ``TICKET_LOCK_LIFETIME`` seconds (60 by
default). A hung action server would hold the turn for five minutes; after one minute the lock
expires, the conversation's next message runs at the same time, both write the tracker and one
turn is lost.

Here the call gives up after RASA_ACTION_TIMEOUT_SECONDS (python -m rasa_runtime; default 3.5 s,
above the action's own 3 s bound on the accounts backend so that its own apology wins). Rasa then
does what it does with any failed action: the action's events are dropped, the turn ends and the
REST channel answers with no messages, which the live-agent service turns into an apology and a
"join the queue" button. The chain of bounds (docs/architecture.md):

    accounts backend 3 s < action call 3.5 s (+ NLU, tracker I/O: the apology within 5 s)
        < the service's wait for Rasa, LIVEAGENT_RASA_TIMEOUT_SECONDS 10 s  << lock lifetime 60 s
"""

from __future__ import annotations

DEFAULT_TIMEOUT_SECONDS = 3.5
# The turn also parses, predicts and saves the tracker; the action may take only part of the lock.
MAX_SHARE_OF_LOCK_LIFETIME = 1 / 3


def lock_lifetime_seconds() -> float:
    """How long Rasa's per-conversation ticket lock lives (TICKET_LOCK_LIFETIME, else 60 s)."""
    from rasa.core import lock_store

    return float(lock_store.LOCK_LIFETIME)


def install(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Bounds every call to the action server at ``timeout_seconds``.

    Raises ValueError when the bound is not well inside the lock's lifetime.
    """
    import aiohttp
    import rasa.core.actions.action as action_module

    lifetime = lock_lifetime_seconds()
    if not 0 < timeout_seconds <= lifetime * MAX_SHARE_OF_LOCK_LIFETIME:
        raise ValueError(
            f"RASA_ACTION_TIMEOUT_SECONDS={timeout_seconds:g} must be above 0 and at most a third of the "
            f"conversation lock's lifetime ({lifetime:g} s, TICKET_LOCK_LIFETIME)"
        )
    # RemoteAction.run passes this module global to aiohttp as the call's timeout (connect, send,
    # wait and read together); nothing else in the module uses it.
    action_module.DEFAULT_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=timeout_seconds)  # type: ignore[assignment]
