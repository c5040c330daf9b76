"""Salesforce's error answers: always ``[{"message", "errorCode", "fields"}]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An error answer; ``errors``: one or more ``(errorCode, message, fields)``."""

    def __init__(self, status: int, errors: Sequence[tuple[str, str, Sequence[str]]]) -> None:
        super().__init__(", ".join(code for code, _, _ in errors))
        self.status = status
        self.errors = list(errors)

    @classmethod
    def one(cls, status: int, code: str, message: str, fields: Sequence[str] = ()) -> ApiError:
        return cls(status, [(code, message, fields)])

    def body(self) -> list[dict[str, Any]]:
        return error_body(self.errors)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def error_body(errors: Sequence[tuple[str, str, Sequence[str]]]) -> list[dict[str, Any]]:
    return [{"message": m, "errorCode": c, "fields": list(f)} for c, m, f in errors]


def not_found() -> ApiError:
    return ApiError.one(404, "NOT_FOUND", "The requested resource does not exist")
