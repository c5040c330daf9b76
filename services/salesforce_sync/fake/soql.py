"""The SOQL subset twoway's repair jobs send, parsed and run over the org's Contacts.

    SELECT f, ... FROM Contact
        [WHERE cond]                      -- comparisons (= != < <= > >=) joined by AND, OR,
                                          -- NOT and parentheses; literals: 'text', numbers,
                                          -- true, false, null, dateTimes (2024-05-01T12:00:00Z)
        [ORDER BY f [ASC|DESC], ...]
        [LIMIT n]

Keywords are case-insensitive; field names are Contact's (unknown ones: ``INVALID_FIELD``);
anything else is ``MALFORMED_QUERY``, as Salesforce answers. Values compare by type: dateTimes
as instants, text case-sensitively (Salesforce compares most text case-insensitively; twoway
only compares Ids, which are case-sensitive), ``null`` only with ``=`` and ``!=``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.salesforce_sync.fake.errors import ApiError

Row = Mapping[str, Any]
Condition = Callable[[Row], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<text>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?(?:Z|[+-]\d\d:?\d\d))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_DATETIME_FIELDS = frozenset({"CreatedDate", "LastModifiedDate", "SystemModstamp"})


def malformed(message: str) -> ApiError:
    return ApiError.one(400, "MALFORMED_QUERY", message)


def instant(raw: str) -> datetime:
    """A SOQL or REST dateTime (``Z``, ``+00:00`` or ``+0000``) as an aware datetime."""
    text = raw.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Query:
    fields: list[str]
    where: Condition | None
    order: list[tuple[str, bool]]
    """(field, descending)"""
    limit: int | None

    def run(self, rows: Sequence[Row]) -> list[dict[str, Any]]:
        found = [r for r in rows if self.where is None or self.where(r)]
        for name, descending in reversed(self.order):
            # Salesforce sorts nulls first ascending, last descending.
            found.sort(key=functools.partial(_sort_key, name), reverse=descending)
        if self.limit is not None:
            found = found[: self.limit]
        return [{name: row.get(name) for name in self.fields} for row in found]


def _sort_key(name: str, row: Row) -> tuple[int, Any]:
    value = row.get(name)
    if value is None:
        return (0, "")
    return (1, _comparable(value))


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", value):
        try:
            return instant(value)
        except ValueError:
            return value
    return value


class _Parser:
    def __init__(self, text: str, known: frozenset[str]) -> None:
        self.tokens = self._lex(text)
        self.at = 0
        self.known = known

    @staticmethod
    def _lex(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise malformed(f"unexpected token at: {text[position : position + 20]}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        return tokens

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        """Consume the keywords if they come next."""
        for offset, word in enumerate(words):
            index = self.at + offset
            if index >= len(self.tokens):
                return False
            kind, value = self.tokens[index]
            if kind != "word" or value.upper() != word:
                return False
        self.at += len(words)
        return True

    def expect(self, *words: str) -> None:
        if not self.keyword(*words):
            raise malformed(f"expecting {' '.join(words)}")

    def take(self, kind: str) -> str:
        token = self.peek()
        if token is None or token[0] != kind:
            raise malformed(f"unexpected {token[1] if token else 'end of query'}")
        self.at += 1
        return token[1]

    def field(self) -> str:
        name = self.take("word")
        if name not in self.known:
            raise ApiError.one(
                400, "INVALID_FIELD", f"No such column '{name}' on entity 'Contact'", [name]
            )
        return name

    def query(self) -> Query:
        self.expect("SELECT")
        fields = [self.field()]
        while self.peek() == ("punct", ","):
            self.at += 1
            fields.append(self.field())
        self.expect("FROM")
        sobject = self.take("word")
        if sobject != "Contact":
            raise ApiError.one(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        where = self.condition() if self.keyword("WHERE") else None
        order: list[tuple[str, bool]] = []
        if self.keyword("ORDER", "BY"):
            while True:
                name = self.field()
                descending = self.keyword("DESC")
                if not descending:
                    self.keyword("ASC")
                order.append((name, descending))
                if self.peek() != ("punct", ","):
                    break
                self.at += 1
        limit = int(self.take("number")) if self.keyword("LIMIT") else None
        if self.peek() is not None:
            raise malformed(f"unexpected {self.peek()[1]}")  # type: ignore[index]
        return Query(fields, where, order, limit)

    def condition(self) -> Condition:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def conjunction(self) -> Condition:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def factor(self) -> Condition:
        if self.keyword("NOT"):
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek() == ("punct", "("):
            self.at += 1
            inner = self.condition()
            if self.take("punct") != ")":
                raise malformed("expecting )")
            return inner
        name = self.field()
        op = self.take("op")
        value = self.literal(name)
        return _comparison(name, op, value)

    def literal(self, name: str) -> Any:
        token = self.peek()
        if token is None:
            raise malformed("a comparison without a value")
        kind, raw = token
        self.at += 1
        if kind == "text":
            return re.sub(r"\\(.)", r"\1", raw[1:-1])
        if kind == "datetime":
            if name not in _DATETIME_FIELDS:
                raise ApiError.one(400, "INVALID_FIELD", f"{name}: a dateTime is not its type")
            return instant(raw)
        if kind == "number":
            return float(raw)
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise malformed(f"unexpected value {raw}")


def _comparison(name: str, op: str, value: Any) -> Condition:
    def check(row: Row) -> bool:
        have = _comparable(row.get(name))
        if op in ("=", "!=", "<>"):
            equal = have == value
            return equal if op == "=" else not equal
        if have is None or value is None:
            return False
        try:
            if op == "<":
                return bool(have < value)
            if op == "<=":
                return bool(have <= value)
            if op == ">":
                return bool(have > value)
            return bool(have >= value)
        except TypeError:
            raise malformed(f"{name} cannot be compared with {value!r}") from None

    return check


def parse(text: str, known: frozenset[str]) -> Query:
    """The query, or the ``ApiError`` Salesforce would answer."""
    return _Parser(text, known).query()
