"""Deleting a conversation from Rasa: `DELETE /conversations/<conversation_id>/tracker`.

Rasa 3.6 cannot delete a conversation. `PUT /conversations/<id>/tracker/events` with no events
replaces the tracker in the in-memory, Redis and DynamoDB stores, but its SQL tracker store (ours:
endpoints.yml, endpoints.prod.yml) only ever appends, so every event stays. This route deletes
everything the tracker store holds about the conversation:

- SQLTrackerStore: the rows of its events table with that sender_id (its own sessionmaker and
  SQLEvent mapping, in one transaction);
- InMemoryTrackerStore: the conversation's key;
- RedisTrackerStore: the conversation's key.

Rasa wraps its store (FailSafeTrackerStore, AwaitableTrackerStore); the route unwraps to the real
store and also clears the fail-safe's in-memory fallback, which holds trackers the real store
failed to save. Any other store (Mongo, DynamoDB, a custom one) gets 501 and nothing is touched.
The deletion holds the conversation's lock from Rasa's lock store, so it never interleaves with a
turn, and the route takes the same JWT as Rasa's other API routes (`rasa.server.requires_auth`;
rasa_runtime/api_auth.py makes every invalid JWT a 401). Answers 204, also when there was nothing
to delete. Like Rasa's own tracker store calls, the deletion runs on the event loop; it is one
indexed DELETE. A later message or `GET .../tracker` starts the conversation afresh.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, List, Optional

PATH = "/conversations/<conversation_id:path>/tracker"


def install() -> None:
    """Registers the route on every app `rasa.server.create_app` builds."""
    import rasa.server

    create_app = rasa.server.create_app

    def create_app_with_erasure(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        add_route(app, kwargs.get("auth_token", args[2] if len(args) > 2 else None))
        return app

    rasa.server.create_app = create_app_with_erasure


def tracker_stores(store: Any) -> List[Any]:
    """The real stores behind Rasa's wrappers: the wrapped one, then a fail-safe's fallback if it has one."""
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore

    found: List[Any] = []
    pending: List[Any] = [store]
    while pending:
        current = pending.pop(0)
        if isinstance(current, FailSafeTrackerStore):
            # The private attribute: the public property would create an empty fallback store.
            pending[:0] = [current._tracker_store] + [s for s in [current._fallback_tracker_store] if s is not None]
        elif isinstance(current, AwaitableTrackerStore):
            pending.insert(0, current._tracker_store)
        else:
            found.append(current)
    return found


def unsupported(stores: List[Any]) -> Optional[str]:
    """The name of the first store this route cannot delete from, if any."""
    from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore

    for store in stores:
        if not isinstance(store, (SQLTrackerStore, InMemoryTrackerStore, RedisTrackerStore)):
            return type(store).__name__
    return None


def delete_conversation(store: Any, conversation_id: str) -> None:
    """Everything ``store`` (a real store, see ``tracker_stores``) holds about the conversation."""
    from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore

    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == conversation_id).delete(
                synchronize_session=False)
            session.commit()
    elif isinstance(store, InMemoryTrackerStore):
        store.store.pop(conversation_id, None)
    elif isinstance(store, RedisTrackerStore):
        store.red.delete(store.key_prefix + conversation_id)
    else:  # checked by ``unsupported`` before the lock is taken
        raise TypeError(f"cannot delete from {type(store).__name__}")


def add_route(app: Any, auth_token: Optional[str] = None) -> None:
    """`DELETE /conversations/<conversation_id>/tracker` on Rasa's app ``app``."""
    from rasa.server import ErrorResponse, ensure_loaded_agent, requires_auth
    from sanic import response

    # ignore_body=False: clients that send `Content-Length: 0` would make Sanic log "body not consumed".
    @app.delete(PATH, name="delete_tracker", ignore_body=False)
    @requires_auth(app, auth_token)
    @ensure_loaded_agent(app)
    async def delete_tracker(request: Any, conversation_id: str) -> Any:
        """Delete every event of the conversation from the tracker store."""
        agent = app.ctx.agent
        stores = tracker_stores(agent.tracker_store)
        name = unsupported(stores)
        if name is not None:
            raise ErrorResponse(
                HTTPStatus.NOT_IMPLEMENTED, "NotImplemented",
                f"Conversations cannot be deleted from the {name}; only from the SQL, in-memory and Redis "
                "tracker stores. Nothing was deleted.")
        try:
            async with agent.lock_store.lock(conversation_id):
                for store in stores:
                    delete_conversation(store, conversation_id)
        except Exception as error:  # as Rasa's own tracker routes answer store and lock failures
            raise ErrorResponse(
                HTTPStatus.INTERNAL_SERVER_ERROR, "ConversationError",
                f"The conversation could not be deleted: {type(error).__name__}") from error
        return response.empty(status=HTTPStatus.NO_CONTENT)
