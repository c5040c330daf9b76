"""What a database made by an earlier twoway held, row by row, in that release's own formats.

The schema comes from the captured DDL (``schemas/``); the rows are written here as that
release's code wrote them (its event payloads, its link tables). Stripe's side of the linked
objects is made in the test's fake Stripe first, so the ids are real there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pymysql
import stripe

# Local ids as twoway hands them out (the API answers 404 to any other form).
ID = {
    "c1": "019aa000-0000-7000-8000-000000000001",
    "c2": "019aa000-0000-7000-8000-000000000002",
    "c3": "019aa000-0000-7000-8000-000000000003",
    "p1": "019aa000-0000-7000-8000-000000000101",
}
OLD_KEY = "tw_upgrade_test_key_made_before_the_upgrade_0123456789"
T0 = "2026-11-20 10:00:00.000000"
T1 = "2026-11-20 10:05:00.000000"


# Both releases held the same customers, each in its own formats: c1 synced and changed since
# (its third version not sent yet), c2 new (its create not published yet), c3 made in Stripe.
CUSTOMERS: dict[str, dict[str, Any]] = {
    "c1": {
        "name": "Ada King",
        "email": "ada@example.com",
        "phone": None,
        "metadata": {"plan": "pro"},
        "version": 3,
    },
    "c2": {
        "name": "Bo Diddley",
        "email": "bo@example.com",
        "phone": "+1 555 0100",
        "metadata": {},
        "version": 1,
    },
    "c3": {
        "name": "Cy Young",
        "email": "cy@example.com",
        "phone": None,
        "metadata": {},
        "version": 1,
    },
}


@dataclass
class Filled:
    """What the test checks after the upgrade."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    stripe_ids: dict[str, str] = field(default_factory=dict)
    unpublished: list[str] = field(default_factory=list)
    old_key: str | None = None
    products: dict[str, dict[str, Any]] = field(default_factory=dict)


def _snapshot(cid: str, row: dict[str, Any], version: int) -> dict[str, Any]:
    return {
        "id": ID[cid],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "metadata": row["metadata"],
        "version": version,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:05:00Z",
    }


def _first_format_event(
    event_id: str, action: str, local_id: str, version: int, origin: str, data: dict[str, Any]
) -> str:
    """An entity event as 5f874e2 wrote it: no ``changed``, ``resend``, ``external_ids``."""
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": event_id,
            "occurred_at": "2026-11-20T10:05:00Z",
            "type": f"customer.{action}",
            "entity": "customer",
            "entity_id": local_id,
            "version": version,
            "origin": origin,
            "data": data,
        }
    )


def _event(
    event_id: str,
    kind: str,
    action: str,
    eid: str,
    version: int,
    origin: str,
    data: dict[str, Any],
    changed: list[str],
    external_ids: dict[str, str],
) -> str:
    """An entity event as 3bc598a wrote it."""
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": event_id,
            "occurred_at": "2026-11-20T10:05:00Z",
            "type": f"{kind}.{action}",
            "entity": kind,
            "entity_id": eid,
            "version": version,
            "origin": origin,
            "data": data,
            "changed": changed,
            "resend": [],
            "external_ids": external_ids,
        }
    )


def _insert(cur: Any, table: str, **values: Any) -> None:
    columns = ", ".join(f"`{c}`" for c in values)
    marks = ", ".join(["%s"] * len(values))
    cur.execute(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", list(values.values()))


def _customers(cur: Any, rows: dict[str, dict[str, Any]], clock: bool) -> None:
    for cid, row in rows.items():
        values = {
            "id": ID[cid],
            "name": row["name"],
            "email": row["email"],
            "phone": row["phone"],
            "metadata": json.dumps(row["metadata"]),
            "version": row["version"],
            "created_at": T0,
            "updated_at": T1,
        }
        if clock:
            values["field_clock"] = json.dumps(
                {p: [row["version"], 1763633100.0, "app"] for p in ("name", "email", "phone")}
            )
        _insert(cur, "customers", **values)


async def stripe_side(client: stripe.StripeClient) -> dict[str, str]:
    """The customers Stripe already holds: one made by twoway, one made in Stripe."""
    made = await client.v1.customers.create_async(
        params={
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "metadata": {"plan": "pro", "twoway_id": ID["c1"]},
        }
    )
    theirs = await client.v1.customers.create_async(
        params={"name": "Cy Young", "email": "cy@example.com"}
    )
    return {"c1": str(made.id), "c3": str(theirs.id)}


def fill_5f874e2(conn: pymysql.Connection[Any], ids: dict[str, str]) -> Filled:
    """Three customers: c1 synced and changed since (v3 not sent yet), c2 new (its create not
    published yet), c3 made in Stripe (the worker knew it only as ``from_provider``)."""
    customers = CUSTOMERS
    with conn.cursor() as cur:
        _customers(cur, customers, clock=False)
        for cid, status, version in (("c1", "synced", 2), ("c3", "synced", 1)):
            _insert(
                cur,
                "external_links",
                entity="customer",
                entity_id=ID[cid],
                provider="stripe",
                external_id=ids[cid],
                status=status,
                synced_version=version,
                inbound_occurred_at=T0 if cid == "c3" else None,
                deleted=0,
                updated_at=T1,
            )
        _insert(
            cur,
            "stripe_links",
            entity="customer",
            entity_id=ID["c1"],
            external_id=ids["c1"],
            version=2,
            deleted=0,
            metadata_keys='["plan"]',
            from_provider=0,
            provider_email=None,
            updated_at=T1,
        )
        _insert(
            cur,
            "stripe_links",
            entity="customer",
            entity_id=ID["c3"],
            external_id=None,
            version=1,
            deleted=0,
            metadata_keys="[]",
            from_provider=1,
            provider_email="cy@example.com",
            updated_at=T1,
        )
        c1 = customers["c1"]
        history = [
            ("e1", "created", "c1", 1, "app", dict(c1, name="Ada Lovelace"), T0),
            ("e2", "updated", "c1", 2, "app", dict(c1, name="Ada Lovelace"), T0),
            ("e3", "created", "c3", 1, "stripe", customers["c3"], T0),
            ("e4", "updated", "c1", 3, "app", c1, None),
            ("e5", "created", "c2", 1, "app", customers["c2"], None),
        ]
        for n, (eid, action, cid, version, origin, row, published) in enumerate(history):
            event_id = f"00000000-0000-4000-8000-00000000000{n + 1}"
            payload = _first_format_event(
                event_id, action, ID[cid], version, origin, _snapshot(cid, row, version)
            )
            _insert(
                cur,
                "outbox",
                event_id=event_id,
                routing_key=f"customer.{action}",
                entity="customer",
                entity_id=ID[cid],
                version=version,
                payload=payload,
                created_at=T0,
                published_at=published,
            )
            del eid
        _insert(
            cur,
            "inbox",
            provider="stripe",
            event_id="evt_old_1",
            entity="customer",
            external_id=ids["c3"],
            entity_id=ID["c3"],
            occurred_at=T0,
            outcome="applied",
            payload="{}",
            received_at=T0,
        )
    conn.commit()
    return Filled(
        customers=customers,
        stripe_ids=ids,
        unpublished=[
            "00000000-0000-4000-8000-000000000004",
            "00000000-0000-4000-8000-000000000005",
        ],
    )


def fill_3bc598a(conn: pymysql.Connection[Any], ids: dict[str, str], prod: str) -> Filled:
    """Everything 5f874e2 held, in 3bc598a's formats, plus a product, links to both providers
    with shadows, an API key, a conflict and the rate budget's rows."""
    customers = CUSTOMERS
    shadow = {
        "paths": {
            "email": ["ada@example.com", 2, 0.0, 0.0, False, 0, [], []],
            "name": ["Ada Lovelace", 2, 0.0, 0.0, False, 0, [], []],
        },
        "seen": 0.0,
    }
    with conn.cursor() as cur:
        _customers(cur, customers, clock=True)
        _insert(
            cur,
            "products",
            id=ID["p1"],
            name="Widget",
            description="A fine widget",
            active=1,
            metadata="{}",
            unit_label=None,
            version=1,
            field_clock="{}",
            created_at=T0,
            updated_at=T1,
        )
        links = [
            ("customer", "c1", "stripe", ids["c1"], 2, json.dumps(shadow)),
            ("customer", "c3", "stripe", ids["c3"], 1, '{"paths": {}, "seen": 0.0}'),
            ("customer", "c1", "salesforce", "003000000000001AAA", 3, "{}"),
            ("product", "p1", "stripe", prod, 1, "{}"),
        ]
        for kind, eid, provider, external_id, version, link_shadow in links:
            _insert(
                cur,
                "external_links",
                entity=kind,
                entity_id=ID[eid],
                provider=provider,
                external_id=external_id,
                status="synced",
                synced_version=version,
                last_error=None,
                note=None,
                inbound_occurred_at=None,
                deleted=0,
                shadow=link_shadow,
                updated_at=T1,
            )
        for kind, eid, external_id, version, paths in (
            ("customer", "c1", ids["c1"], 2, ["email", "metadata.plan", "name", "phone"]),
            ("customer", "c3", ids["c3"], 1, []),
            ("product", "p1", prod, 1, ["active", "description", "name", "unit_label"]),
        ):
            _insert(
                cur,
                "stripe_links",
                entity=kind,
                entity_id=ID[eid],
                external_id=external_id,
                version=version,
                deleted=0,
                field_versions=json.dumps(dict.fromkeys(paths, version)),
                updated_at=T1,
            )
        _insert(
            cur,
            "salesforce_links",
            entity="customer",
            entity_id=ID["c1"],
            external_id="003000000000001AAA",
            version=3,
            deleted=0,
            field_versions=json.dumps(dict.fromkeys(["email", "name", "phone"], 3)),
            updated_at=T1,
        )
        c1 = customers["c1"]
        paths = ["email", "metadata.plan", "name", "phone"]
        history: list[tuple[str, str, str, int, str, dict[str, Any], list[str], Any]] = [
            ("customer", "created", "c1", 1, "app", dict(c1, name="Ada Lovelace"), paths, T0),
            ("customer", "updated", "c1", 2, "app", dict(c1, name="Ada Lovelace"), ["name"], T0),
            (
                "customer",
                "created",
                "c3",
                1,
                "stripe",
                customers["c3"],
                ["email", "name", "phone"],
                T0,
            ),
            ("customer", "updated", "c1", 3, "app", c1, ["name"], None),
            (
                "customer",
                "created",
                "c2",
                1,
                "app",
                customers["c2"],
                ["email", "name", "phone"],
                None,
            ),
        ]
        for n, (kind, action, eid, version, origin, row, changed, published) in enumerate(history):
            event_id = f"00000000-0000-4000-8000-00000000000{n + 1}"
            external = {"stripe": ids["c3"]} if origin == "stripe" else {}
            payload = _event(
                event_id,
                kind,
                action,
                ID[eid],
                version,
                origin,
                _snapshot(eid, row, version),
                changed,
                external,
            )
            _insert(
                cur,
                "outbox",
                event_id=event_id,
                routing_key=f"{kind}.{action}",
                entity=kind,
                entity_id=ID[eid],
                version=version,
                payload=payload,
                created_at=T0,
                published_at=published,
            )
        _insert(
            cur,
            "inbox",
            provider="stripe",
            event_id="evt_old_1",
            entity="customer",
            external_id=ids["c3"],
            entity_id=ID["c3"],
            occurred_at=T0,
            outcome="applied",
            payload="{}",
            received_at=T0,
        )
        _insert(
            cur,
            "api_keys",
            id="k1",
            name="before the upgrade",
            scope="write",
            prefix=OLD_KEY[:12],
            key_hash=hashlib.sha256(OLD_KEY.encode()).hexdigest(),
            created_at=T0,
            revoked_at=None,
        )
        _insert(
            cur,
            "conflicts",
            entity="customer",
            entity_id=ID["c1"],
            provider="stripe",
            path="name",
            app_value='"Ada King"',
            provider_value='"Ada L."',
            app_changed_at=T0,
            provider_changed_at=T0,
            winner="app",
            rule="latest",
            provider_event_id="evt_old_2",
            resolved_at=T1,
        )
        _insert(
            cur,
            "rate_budgets",
            name="stripe",
            capacity=2,
            window_s=1.0,
            paused_until="2000-01-01 00:00:00",
        )
        for slot in range(2):
            _insert(
                cur,
                "rate_budget_slots",
                budget="stripe",
                slot=slot,
                free_at="2000-01-01 00:00:00",
                holder="",
                lease=0,
            )
        _insert(cur, "rate_budget_members", budget="stripe", member="old-worker", seen_at=T0)
    conn.commit()
    return Filled(
        customers=customers,
        stripe_ids=ids,
        unpublished=[
            "00000000-0000-4000-8000-000000000004",
            "00000000-0000-4000-8000-000000000005",
        ],
        old_key=OLD_KEY,
        products={"p1": {"name": "Widget", "description": "A fine widget"}},
    )
