"""The behavioural suite runs once per registered entity kind."""

from __future__ import annotations

import pytest

from services.crud.entities import ENTITIES
from tests.contract.cases import CASES, KindCase


@pytest.fixture(params=list(ENTITIES), ids=str)
def case(request: pytest.FixtureRequest) -> KindCase:
    return CASES[request.param]


# Every service running, as the end-to-end tests have them.
from tests.e2e.conftest import db, sync_settings, system  # noqa: E402, F401
