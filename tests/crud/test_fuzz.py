"""The CRUD API fuzzed from its own OpenAPI document by schemathesis, on the real MariaDB.

schemathesis reads ``GET /openapi.json`` and sends what it generates from it: valid requests,
requests that break the schema, and sequences that follow the links it infers (create, then
read, change and delete what was created). Every answer is checked: never a server error, a
status code, content type, headers and body the document declares, invalid input refused,
undeclared methods answered 405 with a true ``Allow``, no access without the key.

It runs as the ``schemathesis`` command against the service on a real port, with a fixed seed
and a bounded number of examples per operation (a run takes seconds).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import api_key

pytestmark = [pytest.mark.mariadb, pytest.mark.rabbitmq]

EXCLUDED_CHECKS = {
    # A missing If-Match on DELETE is 428 Precondition Required (RFC 6585), which this check
    # does not count among its expected answers (400, 422, ...).
    "missing_required_header",
    # Any well-formed If-Match is schema-valid, yet one naming another version must get 412.
    "positive_data_acceptance",
}
EXAMPLES_PER_OPERATION = 100


async def test_schemathesis_finds_no_server_error_and_no_schema_breach(
    crud: httpx.AsyncClient, tmp_path: Path
) -> None:
    key = await api_key()
    base = str(crud.base_url).rstrip("/")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(sorted(EXCLUDED_CHECKS)),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,  # its cache of past failures stays out of the checkout, and the run fresh
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-8000:]
    spec = (await crud.get("/openapi.json")).json()
    operations = sum(len(item) for item in spec["paths"].values())
    # Every operation of the document was run (a new kind's routes included).
    assert f"{operations} selected / {operations} total" in report, report[-3000:]
    assert " passed" in report, report[-3000:]
