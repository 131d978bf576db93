"""The accounts backend: a customer's applications, account lock and next payment.

The action talks to the ``AccountsBackend`` interface only. ``SqlAccountsBackend`` serves it from
any SQLAlchemy database URL: the embedded default is a SQLite file seeded with fictional demo
customers; production points ``LUMO_ACCOUNTS_DATABASE_URL`` at PostgreSQL. Every lookup is
bounded by a timeout so a slow or dead database turns into ``BackendUnavailable``, which the
action answers with an apology and an offer of a human.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)

DEMO_CUSTOMERS_FILE = Path(__file__).resolve().parent.parent / "demo_customers.yml"


class BackendUnavailable(Exception):
    """The backend could not answer in time (down, unreachable, slow or broken)."""


@dataclass(frozen=True)
class Application:
    benefit: str
    status: str  # received | processing | decided | missing_attachment
    received_on: dt.date
    estimated_on: Optional[dt.date] = None
    decided_on: Optional[dt.date] = None
    missing_attachment: Optional[str] = None


@dataclass(frozen=True)
class NextPayment:
    payment_on: dt.date
    amount_cents: int


@dataclass(frozen=True)
class AccountStatus:
    customer_id: str
    first_name: str
    account_locked: bool
    application: Optional[Application]
    next_payment: Optional[NextPayment]


class AccountsBackend(abc.ABC):
    """Looks up a verified customer's own status."""

    @abc.abstractmethod
    async def get_status(self, customer_id: str) -> Optional[AccountStatus]:
        """The customer's status, None if unknown; raises BackendUnavailable."""


metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.String(64), primary_key=True),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("account_locked", sa.Boolean, nullable=False, default=False),
    sa.Column("next_payment_on", sa.Date, nullable=True),
    sa.Column("next_payment_cents", sa.Integer, nullable=True),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), index=True),
    sa.Column("benefit", sa.String(100), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("estimated_on", sa.Date, nullable=True),
    sa.Column("decided_on", sa.Date, nullable=True),
    sa.Column("missing_attachment", sa.String(200), nullable=True),
)


def create_engine(url: str, timeout_seconds: float) -> Engine:
    """An engine whose connection attempts give up within the timeout."""
    connect_args: Dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args["timeout"] = timeout_seconds
        connect_args["check_same_thread"] = False
    elif url.startswith("postgresql"):
        connect_args["connect_timeout"] = max(1, int(timeout_seconds))
        # Bound every statement, too: a hung query must not hold a visitor.
        connect_args["options"] = f"-c statement_timeout={int(timeout_seconds * 1000)}"
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One shared connection, or every thread would see its own empty database.
        return sa.create_engine(url, connect_args=connect_args, poolclass=StaticPool, future=True)
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, future=True)


class SqlAccountsBackend(AccountsBackend):
    """Accounts from a SQL database (SQLite by default, PostgreSQL in production)."""

    def __init__(self, engine: Engine, timeout_seconds: float, seed_demo: bool = False) -> None:
        self._engine = engine
        self._timeout = timeout_seconds
        # Schema creation and demo seeding happen on first use, inside the timeout, and are
        # retried on the next lookup if the database was not reachable.
        self._prepared = not seed_demo

    def create_schema(self) -> None:
        metadata.create_all(self._engine)

    def seed_demo_customers(self, today: Optional[dt.date] = None) -> int:
        """(Re)writes the fictional demo customers, dates relative to ``today``."""
        today = today or dt.date.today()
        with open(DEMO_CUSTOMERS_FILE, encoding="utf-8") as handle:
            demo = yaml.safe_load(handle)["customers"]
        with self._engine.begin() as connection:
            ids = [entry["customer_id"] for entry in demo]
            connection.execute(applications.delete().where(applications.c.customer_id.in_(ids)))
            connection.execute(customers.delete().where(customers.c.customer_id.in_(ids)))
            for entry in demo:
                payment = entry.get("next_payment")
                connection.execute(
                    customers.insert().values(
                        customer_id=entry["customer_id"],
                        first_name=entry["first_name"],
                        account_locked=bool(entry.get("account_locked", False)),
                        next_payment_on=_days(today, payment, "in_days"),
                        next_payment_cents=payment["amount_cents"] if payment else None,
                    )
                )
                app = entry.get("application")
                if app:
                    connection.execute(
                        applications.insert().values(
                            customer_id=entry["customer_id"],
                            benefit=app["benefit"],
                            status=app["status"],
                            received_on=today - dt.timedelta(days=app["received_days_ago"]),
                            estimated_on=_days(today, app, "estimated_in_days"),
                            decided_on=_days(today, app, "decided_days_ago", sign=-1),
                            missing_attachment=app.get("missing_attachment"),
                        )
                    )
        return len(demo)

    def _prepare(self) -> None:
        if not self._prepared:
            self.create_schema()
            count = self.seed_demo_customers()
            self._prepared = True
            logger.info("Seeded %d fictional demo customers into the accounts database", count)

    def _lookup(self, customer_id: str) -> Optional[AccountStatus]:
        self._prepare()
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(customers).where(customers.c.customer_id == customer_id)
            ).first()
            if row is None:
                return None
            app_row = connection.execute(
                sa.select(applications)
                .where(applications.c.customer_id == customer_id)
                .order_by(applications.c.received_on.desc(), applications.c.id.desc())
                .limit(1)
            ).first()
        application = None
        if app_row is not None:
            application = Application(
                benefit=app_row.benefit,
                status=app_row.status,
                received_on=app_row.received_on,
                estimated_on=app_row.estimated_on,
                decided_on=app_row.decided_on,
                missing_attachment=app_row.missing_attachment,
            )
        payment = None
        if row.next_payment_on is not None and row.next_payment_cents is not None:
            payment = NextPayment(row.next_payment_on, row.next_payment_cents)
        return AccountStatus(
            customer_id=row.customer_id,
            first_name=row.first_name,
            account_locked=bool(row.account_locked),
            application=application,
            next_payment=payment,
        )

    async def get_status(self, customer_id: str) -> Optional[AccountStatus]:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._lookup, customer_id), timeout=self._timeout
            )
        except asyncio.TimeoutError as error:
            raise BackendUnavailable("accounts lookup timed out") from error
        except sa.exc.SQLAlchemyError as error:
            raise BackendUnavailable(f"accounts database error: {type(error).__name__}") from error
        except OSError as error:
            raise BackendUnavailable(f"accounts backend unreachable: {error.strerror}") from error


def _days(today: dt.date, entry: Optional[Dict[str, Any]], key: str, sign: int = 1) -> Optional[dt.date]:
    if not entry or entry.get(key) is None:
        return None
    return today + dt.timedelta(days=sign * int(entry[key]))


_backend: Optional[AccountsBackend] = None


def get_backend() -> AccountsBackend:
    """The process-wide backend from settings (no I/O here: connecting happens per lookup)."""
    global _backend
    if _backend is None:
        from actions.settings import get_settings

        settings = get_settings()
        engine = create_engine(settings.accounts_database_url, settings.accounts_timeout_seconds)
        _backend = SqlAccountsBackend(
            engine, settings.accounts_timeout_seconds, seed_demo=settings.seed_demo_accounts
        )
    return _backend


def set_backend(backend: Optional[AccountsBackend]) -> None:
    """Replace the process-wide backend (tests)."""
    global _backend
    _backend = backend
