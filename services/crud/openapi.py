"""The CRUD API's routes, each declared once with what the OpenAPI document says about it.

Every entity slice lists its :class:`Endpoint` objects; the app turns them into Starlette routes
and ``GET /openapi.json`` into an OpenAPI 3.1 document. The schemas come from the pydantic
models (request bodies, query parameters, responses) through ``openapi-pydantic``, whose typed
model of the OpenAPI 3.1 specification also checks the document is well formed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from openapi_pydantic import (
    Components,
    Header,
    Info,
    MediaType,
    OpenAPI,
    Operation,
    Parameter,
    PathItem,
    RequestBody,
    Response,
    Schema,
    SecurityScheme,
    Tag,
)
from openapi_pydantic.util import PydanticSchema, construct_open_api_with_schema_class
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response as HttpResponse
from starlette.routing import Route

from services.crud.api_schemas import ErrorBody, Health, Readiness
from services.crud.ids import ID_PATTERN

# The tag of the endpoints that run the service rather than serve its data.
OPERATIONS = "operations"
RouteHandler = Callable[[Request], Awaitable[HttpResponse]]
IfMatch = Literal["none", "optional", "required"]

_ERRORS = {
    400: "malformed JSON",
    401: "no API key, or an unknown or revoked one",
    403: "the API key's scope does not allow this",
    404: "no such entity",
    408: "the body did not arrive in time",
    409: "conflicts with another entity (a duplicate email)",
    412: "If-Match matches no current version",
    413: "the body is too large",
    415: "the body is not application/json",
    422: "invalid fields: `error.fields` names each",
    428: "If-Match is required",
    503: "the database is unavailable: try again after Retry-After seconds",
}
_HEADERS = {
    401: {"WWW-Authenticate": "Bearer"},
    503: {"Retry-After": "seconds to wait before trying again"},
}
_ETAG = {"ETag": 'the version as an entity tag, `"<version>"`: send it back in If-Match'}


@dataclass(frozen=True)
class Endpoint:
    """One operation: its route, and what it takes and answers."""

    method: str
    path: str
    handler: RouteHandler
    summary: str
    operation_id: str
    """Unique in the document, camelCase (``listCustomers``): generated clients name their
    functions after it."""
    tag: str
    """The group the operation belongs to (an entity kind's collection, ``operations``)."""
    ok: int = 200
    returns: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    if_match: IfMatch = "none"
    etag: bool = False
    errors: tuple[int, ...] = ()
    secured: bool = True
    # Statuses whose body is not the usual error (``/readyz``'s 503 tells what is down).
    other_bodies: dict[int, type[BaseModel]] = field(default_factory=dict)

    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def routes(endpoints: Iterable[Endpoint]) -> list[Route]:
    """One route per path, answering each of its methods: a method the path lacks gets 405
    with an ``Allow`` header listing every method it has."""
    by_path: dict[str, dict[str, RouteHandler]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint.handler
    return [
        Route(path, _by_method(handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]


def _by_method(handlers: dict[str, RouteHandler]) -> RouteHandler:
    async def dispatch(request: Request) -> HttpResponse:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return dispatch


def _header(description: str) -> Header:
    return Header(description=description, schema=Schema(type="string"))


def _response(description: str, model: type[BaseModel] | None, headers: dict[str, str]) -> Response:
    content = None
    if model is not None:
        content = {"application/json": MediaType(schema=PydanticSchema(schema_class=model))}
    return Response(
        description=description,
        content=content,
        headers={name: _header(text) for name, text in headers.items()} or None,
    )


def _parameter(
    name: str, where: str, schema: dict[str, Any], required: bool, description: str | None = None
) -> Parameter:
    # By alias: ``in`` is a Python keyword.
    return Parameter.model_validate(
        {
            "name": name,
            "in": where,
            "required": required,
            "description": description,
            "schema": schema,
        }
    )


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with its ``$ref``s to ``defs`` replaced by what they name: a parameter's
    schema stands alone, outside the model whose ``$defs`` it refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def _query_parameters(model: type[BaseModel]) -> list[Parameter]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    return [
        _parameter(
            name, "query", _inline(prop, defs), name in required, prop.pop("description", None)
        )
        for name, prop in schema["properties"].items()
    ]


def _operation(endpoint: Endpoint) -> Operation:
    parameters = [
        _parameter(name, "path", {"type": "string", "pattern": ID_PATTERN}, required=True)
        for name in endpoint.path_parameters()
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    if endpoint.if_match != "none":
        parameters.append(
            _parameter(
                "If-Match",
                "header",
                {"type": "string"},
                required=endpoint.if_match == "required",
                description='`"<version>"` (the ETag you read), or `*` for any version',
            )
        )
    responses = {
        str(endpoint.ok): _response(
            endpoint.summary, endpoint.returns, _ETAG if endpoint.etag else {}
        )
    }
    errors = set(endpoint.errors)
    if endpoint.secured:
        errors |= {401, 403, 503}
    for status in sorted(errors):
        model = endpoint.other_bodies.get(status, ErrorBody)
        responses[str(status)] = _response(_ERRORS[status], model, _HEADERS.get(status, {}))
    body = None
    if endpoint.body is not None:
        body = RequestBody(
            required=True,
            content={
                "application/json": MediaType(schema=PydanticSchema(schema_class=endpoint.body))
            },
        )
    return Operation(
        summary=endpoint.summary,
        operationId=endpoint.operation_id,
        tags=[endpoint.tag],
        parameters=parameters or None,
        requestBody=body,
        responses=responses,
        security=None if endpoint.secured else [],
    )


def document(endpoints: Iterable[Endpoint], title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``, as JSON-ready data.

    Raises ``ValueError`` if two operations share an id: a generated client would keep only
    one of them.
    """
    paths: dict[str, PathItem] = {}
    seen: dict[str, str] = {}
    tags: dict[str, None] = {}  # in the order they first appear
    for endpoint in endpoints:
        where = f"{endpoint.method} {endpoint.path}"
        if endpoint.operation_id in seen:
            raise ValueError(
                f"operation id {endpoint.operation_id!r} of {where} is already "
                f"{seen[endpoint.operation_id]}'s"
            )
        seen[endpoint.operation_id] = where
        tags[endpoint.tag] = None
        item = paths.setdefault(endpoint.path, PathItem())
        setattr(item, endpoint.method.lower(), _operation(endpoint))
    spec = OpenAPI(
        openapi="3.1.1",
        info=Info(title=title, version=version),
        paths=paths,
        tags=[Tag(name=name) for name in tags],
        components=Components(
            securitySchemes={
                "apiKey": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="`twoway apikey create --scope read|write` prints a key",
                )
            }
        ),
        security=[{"apiKey": []}],
    )
    built = construct_open_api_with_schema_class(spec)
    return built.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


async def healthz(request: Request) -> HttpResponse:
    return JSONResponse({"status": "ok"})


def service_endpoints(readyz: RouteHandler) -> list[Endpoint]:
    """The endpoints every deployment has, open to callers without a key."""
    return [
        Endpoint(
            "GET",
            "/healthz",
            healthz,
            "alive",
            operation_id="checkHealth",
            tag=OPERATIONS,
            returns=Health,
            secured=False,
        ),
        Endpoint(
            "GET",
            "/readyz",
            readyz,
            "database and broker reachable",
            operation_id="checkReadiness",
            tag=OPERATIONS,
            returns=Readiness,
            errors=(503,),
            secured=False,
            other_bodies={503: Readiness},
        ),
    ]
