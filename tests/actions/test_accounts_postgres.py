"""The SQL accounts backend over a real PostgreSQL connection (127.0.0.1:5432, database test)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from actions.clients import accounts_backend
from actions.clients.accounts_backend import BackendUnavailable, SqlAccountsBackend

pytestmark = pytest.mark.postgres
URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def engine():
    engine = accounts_backend.create_engine(URL, 2.0)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {URL} (.ci/run starts it): {error}")
    accounts_backend.metadata.drop_all(engine)
    yield engine
    accounts_backend.metadata.drop_all(engine)
    engine.dispose()


async def test_seeded_lookup_on_postgres(engine):
    backend = SqlAccountsBackend(engine, 2.0, seed_demo=True)
    status = await backend.get_status("LUMO-1003")
    assert status.first_name == "Helmi"
    assert status.application.status == "decided"
    assert status.next_payment.amount_cents == 41250
    assert status.next_payment.payment_on == dt.date.today() + dt.timedelta(days=6)
    assert await backend.get_status("LUMO-0000") is None


async def test_slow_query_on_postgres_is_cut_by_the_timeout(engine):
    class Sleepy(SqlAccountsBackend):
        def _lookup(self, customer_id):
            with self._engine.connect() as connection:
                connection.execute(sa.text("select pg_sleep(5)"))

    backend = Sleepy(accounts_backend.create_engine(URL, 1.0), 1.0)
    with pytest.raises(BackendUnavailable):
        await backend.get_status("LUMO-1001")
