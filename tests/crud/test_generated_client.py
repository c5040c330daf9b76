"""A Python client generated from the live OpenAPI document drives the API, as a team would.

``openapi-python-client`` (the generator the README shows) reads ``GET /openapi.json`` from
the running service (no key: the document is open) into a temporary folder; the test imports
what it made and runs it against the real MariaDB and RabbitMQ. Nothing generated is kept.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import api_key

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

PACKAGE = "twoway_client"


async def generate(url: str, into: Path) -> None:
    """Generate the client package ``PACKAGE`` from the document at ``url`` into ``into``."""
    config = into / "generator.yaml"
    # No formatter run over the generated code: it is imported here, never read.
    config.write_text("post_hooks: []\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--url",
        url,
        "--meta",
        "none",
        "--output-path",
        str(into / PACKAGE),
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=into,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report
    # The generator leaves out, with a warning, whatever part of the document it cannot read.
    assert "warning" not in report.lower(), report


@pytest.fixture
def client_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` for the generated package; the package is forgotten after."""
    monkeypatch.syspath_prepend(tmp_path)
    yield tmp_path
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


async def test_a_client_generated_from_the_document_drives_the_api(
    crud: httpx.AsyncClient, client_dir: Path
) -> None:
    base = str(crud.base_url).rstrip("/")
    await generate(f"{base}/openapi.json", client_dir)

    # Imported as its users would, now that it exists.
    from twoway_client import AuthenticatedClient
    from twoway_client.api.customers import (
        create_customer,
        delete_customer,
        get_customer,
        list_customers,
        update_customer,
    )
    from twoway_client.api.products import create_product, delete_product, list_products
    from twoway_client.models import (
        Customer,
        CustomerCreate,
        CustomerPage,
        CustomerPatch,
        ErrorBody,
        Product,
        ProductCreate,
    )

    async with AuthenticatedClient(base_url=base, token=await api_key()) as client:
        # 1. create customers and a product
        made = [
            await create_customer.asyncio_detailed(
                client=client, body=CustomerCreate(name=f"Ada {n}", email=f"ada{n}@example.com")
            )
            for n in range(3)
        ]
        customers = [response.parsed for response in made]
        assert [r.status_code for r in made] == [201, 201, 201]
        assert all(isinstance(c, Customer) for c in customers)
        made_product = await create_product.asyncio_detailed(
            client=client, body=ProductCreate(name="Pro plan")
        )
        product = made_product.parsed
        assert made_product.status_code == 201 and isinstance(product, Product)

        # 2. list with a cursor
        first = await list_customers.asyncio(client=client, limit=2)
        assert isinstance(first, CustomerPage) and isinstance(first.next_cursor, str)
        rest = await list_customers.asyncio(client=client, limit=2, cursor=first.next_cursor)
        assert isinstance(rest, CustomerPage) and rest.next_cursor is None
        assert [c.id for c in [*first.data, *rest.data]] == [c.id for c in customers]
        products = await list_products.asyncio(client=client)
        assert [p.id for p in products.data] == [product.id]

        # 3. update with If-Match
        ada = customers[0]
        updated = await update_customer.asyncio_detailed(
            ada.id, client=client, body=CustomerPatch(name="Ada Lovelace"), if_match='"1"'
        )
        assert updated.status_code == 200 and isinstance(updated.parsed, Customer)
        assert (updated.parsed.name, updated.parsed.version) == ("Ada Lovelace", 2)
        assert updated.headers["etag"] == '"2"'

        # 5. a 412 and a 422, read as the typed error model
        stale = await update_customer.asyncio_detailed(
            ada.id, client=client, body=CustomerPatch(name="Ada"), if_match='"1"'
        )
        assert stale.status_code == 412 and isinstance(stale.parsed, ErrorBody)
        assert stale.parsed.error.code == "precondition_failed"
        invalid = await create_customer.asyncio_detailed(
            client=client, body=CustomerCreate(name="Bob", email="not an email")
        )
        assert invalid.status_code == 422 and isinstance(invalid.parsed, ErrorBody)
        assert invalid.parsed.error.code == "validation_error"
        assert invalid.parsed.error.fields.additional_keys == ["email"]

        # 4. delete with If-Match
        deleted = await delete_customer.asyncio_detailed(
            ada.id, client=client, if_match=updated.headers["etag"]
        )
        assert deleted.status_code == 204
        gone = await get_customer.asyncio_detailed(ada.id, client=client)
        assert gone.status_code == 404 and isinstance(gone.parsed, ErrorBody)
        assert gone.parsed.error.code == "not_found"
        dropped = await delete_product.asyncio_detailed(
            product.id, client=client, if_match=made_product.headers["etag"]
        )
        assert dropped.status_code == 204
        assert (await list_products.asyncio(client=client)).data == []
