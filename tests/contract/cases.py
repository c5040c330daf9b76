"""One case per entity kind: what the behavioural suite needs to drive that kind.

The suite (``tests/contract/``) is written once and parametrized over every registered kind;
a new kind adds its case here (``test_every_kind_has_a_case`` fails until it does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe

from shared.kinds import EntityKind


@dataclass(frozen=True)
class KindCase:
    kind: EntityKind
    path: str
    stripe_object: str
    """The localstripe store prefix and the Stripe event prefix (``customer``)."""
    create: Callable[[int], dict[str, Any]]
    """A valid create body, distinct for each ``n``."""
    edits: tuple[str, ...]
    """Scalar fields the suite changes (both sides), besides metadata keys."""
    value: Callable[[str, str], Any]
    """A valid value of ``field`` made from a unique stamp."""
    invalid: tuple[tuple[dict[str, Any], str], ...]
    """Create bodies the API must refuse, with the field it must name."""

    def resource(self, client: stripe.StripeClient) -> Any:
        return getattr(client.v1, f"{self.stripe_object}s")


def _customer_value(field: str, stamp: str) -> Any:
    return f"+1 555 {stamp}"[:20] if field == "phone" else f"{field}-{stamp}"


def _product_value(field: str, stamp: str) -> Any:
    if field == "unit_label":
        return f"u{stamp}"[:12]
    return f"{field}-{stamp}"


CASES: dict[EntityKind, KindCase] = {
    EntityKind.CUSTOMER: KindCase(
        kind=EntityKind.CUSTOMER,
        path="/customers",
        stripe_object="customer",
        create=lambda n: {"name": f"Ada {n}", "email": f"ada{n}@example.com"},
        edits=("name", "phone"),
        value=_customer_value,
        invalid=(
            ({"name": "Ada"}, "email"),
            ({"name": "Ada", "email": "a@example.com", "phone": "1" * 21}, "phone"),
            (
                {"name": "Ada", "email": "a@example.com", "metadata": {"twoway_id": "x"}},
                "metadata.twoway_id",
            ),
        ),
    ),
    EntityKind.PRODUCT: KindCase(
        kind=EntityKind.PRODUCT,
        path="/products",
        stripe_object="product",
        create=lambda n: {"name": f"Widget {n}", "description": f"A widget, number {n}"},
        edits=("name", "description", "unit_label"),
        value=_product_value,
        invalid=(
            ({"description": "no name"}, "name"),
            ({"name": "W", "unit_label": "a label far too long"}, "unit_label"),
            ({"name": "W", "active": "yes"}, "active"),
        ),
    ),
}


def stripe_object(case: KindCase, external_id: str) -> dict[str, Any]:
    """The object as localstripe holds it (read from its store: no request, no log entry)."""
    from localstripe.resources import store

    obj = store.get(f"{case.stripe_object}:{external_id}")
    if obj is None:
        return {}
    exported: dict[str, Any] = obj._export()
    return exported
