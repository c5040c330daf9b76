"""Inbox retention: rows outlive Stripe's redeliveries, then go; the inbound role purges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.crud.app import Roles, create_app
from services.crud.inbound.models import InboxEntry
from services.crud.inbound.retention import InboxRetention, RetentionConfig
from services.crud.settings import CrudSettings
from services.runtime.settings import ConfigError, load
from tests.conftest import Broker, serve
from tests.waiting import eventually

pytestmark = pytest.mark.mariadb

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def received(hours_ago: float, event_id: str, now: datetime = NOW) -> None:
    await InboxEntry.create(
        provider="stripe",
        event_id=event_id,
        entity="customer",
        external_id="cus_1",
        occurred_at=now - timedelta(hours=hours_ago),
        outcome="applied",
        payload="{}",
        received_at=now - timedelta(hours=hours_ago),
    )


async def event_ids() -> list[str]:
    return sorted(await InboxEntry.all().values_list("event_id", flat=True))  # type: ignore[arg-type]


async def test_rows_older_than_the_retention_go_and_newer_ones_stay(db: None) -> None:
    for n, hours in enumerate([720, 200, 169, 168.5, 168.01]):
        await received(hours, f"evt_old_{n}")
    for n, hours in enumerate([167.9, 72, 1, 0]):
        await received(hours, f"evt_kept_{n}")
    # Batches smaller than the backlog: the purge goes on until nothing old is left.
    retention = InboxRetention(RetentionConfig(retention=timedelta(hours=168), batch_size=2))

    assert await retention.purge(now=NOW) == 5
    assert await event_ids() == [f"evt_kept_{n}" for n in range(4)]
    assert await retention.purge(now=NOW) == 0


async def test_the_inbound_role_purges_in_the_background(
    settings: CrudSettings, db: None, broker: Broker
) -> None:
    await received(24 * 365, "evt_ancient", now=datetime.now(UTC))
    await received(0, "evt_recent", now=datetime.now(UTC))
    app = create_app(settings, Roles(own_database=False, inbound=True))
    async with serve(app):

        async def purged() -> bool:
            return await event_ids() == ["evt_recent"]

        assert await eventually(purged)


@pytest.mark.parametrize(("raw", "hours"), [(None, 168.0), ("96", 96.0)])
def test_inbox_retention_setting(
    monkeypatch: pytest.MonkeyPatch, raw: str | None, hours: float
) -> None:
    if raw is not None:
        monkeypatch.setenv("TWOWAY_INBOX_RETENTION_HOURS", raw)
    assert load(CrudSettings).inbox_retention_hours == hours


@pytest.mark.parametrize("raw", ["72", "24", "0"])
def test_a_retention_within_stripes_retry_window_is_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("TWOWAY_INBOX_RETENTION_HOURS", raw)
    with pytest.raises(ConfigError, match=r"TWOWAY_INBOX_RETENTION_HOURS.*3 days"):
        load(CrudSettings)
