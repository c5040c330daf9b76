"""Reading Prometheus text in tests. The registry is process-global: assert deltas."""

from __future__ import annotations

import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels``; 0 when it was never set."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def delta(before: str, after: str, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


def metrics_url(client: httpx.AsyncClient) -> str:
    """Where the CRUD service behind ``client`` (from ``crud_with``) serves ``/metrics``."""
    return str(client.metrics_url)  # type: ignore[attr-defined]


async def scrape(client: httpx.AsyncClient, url: str = "/metrics") -> str:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def answering(client: httpx.AsyncClient) -> bool:
    """Whether a metrics endpoint's ``/healthz`` answers."""
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False
