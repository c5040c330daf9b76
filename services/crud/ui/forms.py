"""HTML forms made from a kind's API schemas: one input per field, parsed back and checked by
the same pydantic models the API uses (so the UI and the API refuse the same values).

| field type        | input                            | parsed back as                       |
|-------------------|----------------------------------|--------------------------------------|
| ``bool``          | checkbox                         | checked or not                       |
| ``dict[str, str]``| textarea, one ``key=value`` a line | a dict (a line without ``=``: error) |
| anything else     | text                             | the text; empty is null if allowed   |
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from services.crud.http import validation_fields

InputKind = Literal["text", "checkbox", "map"]


@dataclass(frozen=True)
class FormField:
    name: str
    input: InputKind
    required: bool
    nullable: bool

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types a field may hold, unwrapped (``Annotated[dict[str, str], ...] | None``:
    ``dict[str, str]``, ``None``)."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(m for arg in get_args(annotation) for m in _members(arg))
    return (annotation,)


def _input(annotation: Any) -> InputKind:
    members = _members(annotation)
    if bool in members:
        return "checkbox"
    if any(m is dict or get_origin(m) is dict for m in members):
        return "map"
    return "text"


def form_fields(schema: type[BaseModel]) -> list[FormField]:
    return [
        FormField(
            name,
            _input(info.annotation),
            info.is_required(),
            type(None) in _members(info.annotation),
        )
        for name, info in schema.model_fields.items()
    ]


def shown(field: FormField, value: Any) -> str:
    """A value as its input holds it."""
    if field.input == "checkbox":
        return "on" if value else ""
    if field.input == "map":
        return "".join(f"{k}={v}\n" for k, v in sorted((value or {}).items()))
    return "" if value is None else str(value)


def raw(field: FormField, form: FormData | Mapping[str, Any], prefix: str = "") -> str:
    """What the form sent for ``field``, normalized as ``shown`` writes it."""
    sent = form.get(prefix + field.name)
    text = sent if isinstance(sent, str) else ""
    if field.input == "checkbox":
        return "on" if text else ""
    if field.input == "map":
        lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
        return "".join(f"{line}\n" for line in lines if line)
    return text


class FieldErrors(Exception):
    """What is wrong, by field; ``status``: 422 for invalid values, 409 for a taken one."""

    def __init__(self, errors: dict[str, str], status: int = 422) -> None:
        super().__init__("invalid form")
        self.errors = errors
        self.status = status


def parsed(field: FormField, text: str) -> Any:
    if field.input == "checkbox":
        return bool(text)
    if field.input == "map":
        out: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if not sep:
                raise FieldErrors({field.name: f"write one key=value a line, not {line[:40]!r}"})
            out[key.strip()] = value.strip()
        return out
    if not text.strip() and field.nullable and not field.required:
        return None
    return text


def validated(schema: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    """``values`` checked by ``schema``; the errors by field, as the API words them."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for path, message in validation_fields(exc).items():
            errors.setdefault(path.split(".")[0], message)
        raise FieldErrors(errors) from None
