"""Command line: `python -m liveagent serve` and `python -m liveagent create-agent`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from liveagent.settings import Settings, SettingsError

ROLES = ("agent", "supervisor", "editor")


async def create_agent(settings: Settings, args: argparse.Namespace) -> int:
    from liveagent.store import Store

    password = os.environ.get(args.password_env) if args.password_env else None
    if not password:
        password = getpass.getpass("Password: ")
    if len(password) < 10:
        print("The password must be at least 10 characters.", file=sys.stderr)
        return 2
    store = await Store.open(settings.database_url)
    try:
        agent = await store.create_agent(args.username, args.name, password, args.role)
    finally:
        await store.close()
    print(f"Created {agent.role} {agent.username} ({agent.display_name}), id {agent.id}")
    return 0


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liveagent", description="Lumo live-agent service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the service")
    create = commands.add_parser("create-agent", help="add an agent, supervisor or editor")
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True, help="first name shown to visitors")
    create.add_argument("--role", choices=ROLES, default="agent")
    create.add_argument("--password-env", help="read the password from this environment variable")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "create-agent":
        return asyncio.run(create_agent(settings, args))
    from liveagent.app import create_app

    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
