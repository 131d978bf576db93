"""Command line: `python -m liveagent serve`, `create-agent`, `set-password`, `set-role`, `deactivate`,
`activate` and `retention`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from liveagent.settings import Settings, SettingsError
from lumo_shared.privacy import install_log_masking

ROLES = ("agent", "supervisor", "editor")


def _read_password(args: argparse.Namespace) -> str | None:
    password = os.environ.get(args.password_env) if args.password_env else None
    if not password:
        password = getpass.getpass("Password: ")
    if len(password) < 10:
        print("The password must be at least 10 characters.", file=sys.stderr)
        return None
    return password


async def create_agent(settings: Settings, args: argparse.Namespace) -> int:
    from liveagent.store import Store

    password = _read_password(args)
    if password is None:
        return 2
    store = await Store.open(settings.database_url)
    try:
        agent = await store.agents.create(args.username, args.name, password, args.role)
    except ValueError as error:  # a taken username: said in one line, no traceback
        print(f"Not created: {error}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(f"Created {agent.role} {agent.username} ({agent.display_name}), id {agent.id}")
    return 0


async def change_agent(settings: Settings, args: argparse.Namespace) -> int:
    """set-password, set-role, deactivate, activate: each but activate ends every session of the agent.

    Running services refuse the agent's next request at once and close the agent's open consoles
    within LIVEAGENT_SESSION_CHECK_SECONDS (docs/security.md).
    """
    from liveagent.store import NotFound, Store

    password = _read_password(args) if args.command == "set-password" else None
    if args.command == "set-password" and password is None:
        return 2
    store = await Store.open(settings.database_url)
    try:
        if args.command == "set-password":
            assert password is not None
            agent = await store.agents.set_password(args.username, password)
            action, done = "agent.password", "New password set"
        elif args.command == "set-role":
            agent = await store.agents.set_role(args.username, args.role)
            action, done = "agent.role", f"Role set to {args.role}"
        else:
            active = args.command == "activate"
            agent = await store.agents.set_active(args.username, active)
            action, done = ("agent.activated", "Activated") if active else ("agent.deactivated", "Deactivated")
        await store.audit.record(action, target=f"agent:{agent.id}", detail={"username": agent.username})
    except NotFound:
        print(f"No agent with the username {args.username!r}.", file=sys.stderr)
        return 1
    finally:
        await store.close()
    ended = "" if args.command == "activate" else "; every session of the agent has ended"
    print(f"{done} for {agent.username} ({agent.display_name}){ended}")
    return 0


async def retention(settings: Settings) -> int:
    import datetime as dt

    from liveagent.rasa_client import RasaClient
    from liveagent.retention import purge
    from liveagent.store import Store

    store = await Store.open(settings.database_url)
    rasa = RasaClient(settings.rasa_urls or (settings.rasa_url,), settings.rasa_jwt_secret,
                      settings.rasa_timeout_seconds)
    await rasa.open()
    try:
        result = await purge(store, rasa, settings.retention_days, dt.datetime.now(dt.timezone.utc),
                             audit_retention_days=settings.audit_retention_days)
    finally:
        await rasa.close()
        await store.close()
    deleted = result.deleted
    print(f"Deleted {_count(deleted.conversations, 'conversation')} closed or idle for more than "
          f"{settings.retention_days} days ({_count(deleted.messages, 'message')}, "
          f"{_count(deleted.events, 'state event')}, {_count(deleted.read_marks, 'read mark')}, "
          f"{_count(deleted.missed, 'inbox entry', 'inbox entries')}) "
          f"and {_count(deleted.tickets, 'contact request')}; "
          f"Rasa deleted {_count(result.rasa_deleted, 'tracker')}; "
          f"{_count(deleted.audit_entries, 'audit entry', 'audit entries')} older than "
          f"{settings.audit_retention_days} days deleted.")
    if result.rasa_not_deleted:
        print(f"Rasa could not delete {_count(result.rasa_not_deleted, 'tracker')} (its tracker store does not "
              "support it, see docs/security.md); their events were replaced with none.", file=sys.stderr)
    if result.rasa_unreachable:
        print("Rasa could not be reached: the other expired conversations are kept; run this again when it "
              "answers.", file=sys.stderr)
        return 1
    return 0


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def configure_logging() -> None:
    """Log lines of this process never carry identity codes, IBANs, e-mail addresses or phone numbers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Sanic hands its error logger to the websockets library, which logs "connection open" at INFO for
    # every visitor's socket: noise for operators, and a log record per connection. Warnings and errors stay.
    logging.getLogger("sanic.error").setLevel(logging.WARNING)
    install_log_masking()


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liveagent", description="Lumo live-agent service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the service")
    create = commands.add_parser("create-agent", help="add an agent, supervisor or editor")
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True, help="first name shown to visitors")
    create.add_argument("--role", choices=ROLES, default="agent")
    create.add_argument("--password-env", help="read the password from this environment variable")
    password = commands.add_parser("set-password", help="set an agent's password (ends the agent's sessions)")
    password.add_argument("--username", required=True)
    password.add_argument("--password-env", help="read the password from this environment variable")
    role = commands.add_parser("set-role", help="change an agent's role (ends the agent's sessions)")
    role.add_argument("--username", required=True)
    role.add_argument("--role", choices=ROLES, required=True)
    for name, text in (("deactivate", "refuse an agent's logins and end the agent's sessions"),
                       ("activate", "allow a deactivated agent to log in again")):
        commands.add_parser(name, help=text).add_argument("--username", required=True)
    commands.add_parser("retention", help="delete conversations older than LIVEAGENT_RETENTION_DAYS now")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "create-agent":
        return asyncio.run(create_agent(settings, args))
    if args.command in ("set-password", "set-role", "deactivate", "activate"):
        return asyncio.run(change_agent(settings, args))
    if args.command == "retention":
        return asyncio.run(retention(settings))
    from liveagent.app import create_app

    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
