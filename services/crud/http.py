"""HTTP plumbing shared by every entity's routes: JSON bodies, errors, ETags.

Every error is JSON ``{"error": {"code", "message", "fields"}}``. Bad input never reaches the
database: bodies are size-checked, parsed and validated before a transaction starts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
import pymysql
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from services.runtime.db import is_transient
from services.runtime.http import BodyTimeout, BodyTooLarge, read_limited_body

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)


class JSONResponse(StarletteJSONResponse):
    """Starlette's JSON response, encoded by orjson (a tenth of the stdlib encoder's time; the
    same compact UTF-8)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers


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
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


RETRY_AFTER_S = 1
# What a lost or refused database connection raises, through the ORM or from the driver.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
    ConnectionError,
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached (not a bug in the request)."""
    return is_transient(exc)


def unavailable_response() -> JSONResponse:
    # The write did not happen, and the client may safely try again later.
    return error_response(
        503,
        "unavailable",
        "the database is unavailable, try again later",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def unavailable_handler(request: Request, exc: Exception) -> Response:
    """The database is down or a lock wait timed out even after retries."""
    if not database_unavailable(exc):
        return await internal_error_handler(request, exc)
    log.warning("database unavailable: %s", type(exc).__name__)
    return unavailable_response()


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):
        return await unavailable_handler(request, exc)
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
    except BodyTimeout:
        # Closing: the rest of the slow upload would otherwise still hold the connection.
        raise ApiError(
            408,
            "request_timeout",
            "the body did not arrive in time",
            headers={"Connection": "close"},
        ) from None
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise ApiError(400, "malformed_json", "the body is nested too deeply") from None
    except ValueError as exc:
        # JSONDecodeError, UnicodeDecodeError, an integer over Python's digit limit, NaN.
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    where = lone_surrogate(data)
    if where is not None:
        raise ApiError(
            422,
            "validation_error",
            "some fields are invalid",
            {where: "is not valid Unicode (a lone surrogate)"},
        )
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def printable(text: str) -> str:
    """``text`` safe to put in a UTF-8 response: lone surrogates become escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogate(data: Any) -> str | None:
    """The dotted path of the first string (or key) in ``data`` that UTF-8 cannot encode.

    JSON's ``\\udfff`` escapes decode to lone surrogates, which no database or provider takes.
    Iterative: a parsed body can be nested as deep as the JSON parser allows.
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        items: Any = ()
        if isinstance(value, str):
            if not _encodable(value):
                return path or "body"
        elif isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        for key, item in items:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _encodable(key):
                return printable(name)
            stack.append((name, item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validation_fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "[key]") or "body"
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


def parse_query(request: Request, model: type[M]) -> M:
    """The query string validated by ``model``; a bad parameter is a 422 naming it."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise ApiError(
            422, "validation_error", "some query parameters are invalid", validation_fields(exc)
        ) from None


def etag(version: int) -> str:
    return f'"{version}"'


_VERSION_TAG = re.compile(r"[0-9]{1,18}")


def if_match_version(request: Request, required: bool = False) -> set[int] | None:
    """The versions an ``If-Match`` header accepts; None when ``*`` (or absent and optional).

    A tag that is not one this API hands out (not ``"<version>"``) matches no version: 412.
    """
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise ApiError(
                428,
                "precondition_required",
                'this request needs If-Match: "<version>" (the ETag you read) or *',
                {"If-Match": "is required"},
            )
        return None
    if header.strip() == "*":
        return None
    versions: set[int] = set()
    for part in header.split(","):
        tag = part.strip().removeprefix("W/").strip('"')
        if not _VERSION_TAG.fullmatch(tag):
            raise ApiError(
                412, "precondition_failed", "If-Match matches no version", {"If-Match": "no match"}
            )
        versions.add(int(tag))
    return versions
