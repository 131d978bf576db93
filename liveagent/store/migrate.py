"""Run the Alembic migrations from code, so start-up (and tests) need no alembic.ini or CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql"}


def sync_url(database_url: str) -> str:
    """The blocking-driver URL Alembic needs for the async URL the service uses."""
    for async_scheme, sync_scheme in _SYNC_DRIVERS.items():
        if database_url.startswith(async_scheme + "://"):
            return sync_scheme + database_url[len(async_scheme) :]
    return database_url


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Config is a ConfigParser: a literal % (e.g. in a URL-encoded password) must be doubled
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def _ensure_sqlite_folder(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def upgrade(database_url: str) -> None:
    """Bring the database at `database_url` to the newest schema (blocking; call it in a thread)."""
    _ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), "head")
