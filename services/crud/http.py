"""HTTP plumbing shared by every entity's routes: JSON bodies, errors, ETags.

Every error is JSON ``{"error": {"code", "message", "fields"}}``. Bad input never reaches the
database: bodies are size-checked, parsed and validated before a transaction starts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.runtime.db import is_transient
from services.runtime.http import BodyTooLarge, read_limited_body

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.fields)


async def unavailable_handler(request: Request, exc: Exception) -> Response:
    # The database is down or a lock wait timed out even after retries: the write did not
    # happen, and the client may safely try again later.
    if not is_transient(exc):
        return await internal_error_handler(request, exc)
    log.warning("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "unavailable",
        "the database is unavailable, try again later",
        headers={"Retry-After": "1"},
    )


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def read_json(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "the body must be application/json")
    try:
        body = await read_limited_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise ApiError(
            413, "payload_too_large", f"the body is over {MAX_BODY_BYTES} bytes"
        ) from None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None


def validation_fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        fields.setdefault(loc, message.removeprefix("Value error, "))
    return fields


async def parse_body(request: Request, model: type[M]) -> M:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ApiError(
            422, "validation_error", "the body must be a JSON object", {"body": "must be an object"}
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_error", "some fields are invalid", validation_fields(exc)
        ) from None


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request: Request) -> set[int] | None:
    """The versions an ``If-Match`` header accepts; None when absent or ``*``."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    versions: set[int] = set()
    for part in header.split(","):
        tag = part.strip().removeprefix("W/").strip('"')
        if not tag.isdigit():
            raise ApiError(412, "precondition_failed", f"If-Match {part.strip()!r} matches nothing")
        versions.add(int(tag))
    return versions
