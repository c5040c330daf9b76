"""``python -m services.salesforce_sync.fake --port P [--outbound-url URL] [--org-id ORG]``:
the fake Salesforce org (see the package docstring) on the loopback interface."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

import uvicorn

from services.salesforce_sync.fake.app import create_app
from services.salesforce_sync.fake.config import EXTERNAL_ID_FIELD, ORG_ID, FakeConfig


def _exit_with(parent_pid: int) -> None:
    """Stop (as on SIGTERM) once ``parent_pid`` is gone: a test run killed outright leaves no
    fake behind."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m services.salesforce_sync.fake", description="A FAKE Salesforce org."
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--outbound-url", help="where Outbound Messages go (none: not sent)")
    parser.add_argument("--org-id", default=ORG_ID)
    parser.add_argument("--external-id-field", default=EXTERNAL_ID_FIELD)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    options = parser.parse_args(argv)
    if options.parent_pid is not None:
        _exit_with(options.parent_pid)
    config = FakeConfig(
        base_url=f"http://{options.host}:{options.port}",
        outbound_url=options.outbound_url,
        org_id=options.org_id,
        external_id_field=options.external_id_field,
    )
    uvicorn.run(
        create_app(config),
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=False,
    )


if __name__ == "__main__":
    main()
