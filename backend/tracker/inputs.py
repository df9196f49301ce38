"""Bounds every request value is held to before it reaches a service.

PostgreSQL cannot store a NUL character in text and its `integer` columns hold 1..2**31-1 for
ids; Python's JSON decoder recurses once per nesting level. A value past these bounds is the
client's mistake and is refused by validation, naming the field, instead of failing deep down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator
from itertools import accumulate
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

INT4_MAX = 2**31 - 1

# 1..2147483647 written in ASCII digits without a leading zero: ids sent as text (filters,
# cursors). `\d` would also take other scripts' digits, and a plain digit count would let
# 9999999999 through to the database.
ID_TEXT = (
    "(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    "|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    "|21474836[0-3][0-9]|214748364[0-7])"
)
ID_PATTERN = f"^{ID_TEXT}$"
# A listing's cursor that is the id of the previous page's last row. Stated, not validated: the
# listing refuses any other cursor itself, with the invalid_cursor every listing answers.
ID_CURSOR = {"pattern": f"^(?:{ID_TEXT})?$", "description": "The previous page's next_cursor"}

# Any text without NUL. The same syntax means the same thing to pydantic's regex engine, to
# Python's and to JSON Schema's, so the OpenAPI schema states exactly what is accepted.
NUL_FREE = r"^[^\x00]*$"
# Unicode's White_Space characters, spelled out: `\s` means a different set to each of those
# engines, and pydantic's strip_whitespace yet another.
BLANK = "".join(
    [
        "\t\n\x0b\x0c\r \x85\xa0\u1680",
        *map(chr, range(0x2000, 0x200B)),
        "\u2028\u2029\u202f\u205f\u3000",
    ]
)
# NUL-free text with at least one character that is not blank (titles).
NOT_BLANK = f"^[^\\x00]*[^\\x00{BLANK}][^\\x00]*$"


def strip_blank(value: str) -> str:
    """Blank characters off both ends: exactly those NOT_BLANK does not count."""
    return value.strip(BLANK)


# What a pattern asks for, in words: a 422 says this rather than the pattern itself.
PATTERN_MESSAGES: dict[str, str] = {}


def described(pattern: str, message: str) -> str:
    PATTERN_MESSAGES[pattern] = message
    return pattern


described(NUL_FREE, "must not contain NUL (U+0000) characters")
described(NOT_BLANK, "must not be blank or contain NUL (U+0000) characters")
described(ID_PATTERN, "must be a whole number from 1 to 2147483647")


# The deepest request body needs three levels; anything far deeper is refused before it is
# decoded, so neither the decoder nor validation recurses over an attacker's structure.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels"

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings do not count)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class UnreadableJson(json.JSONDecodeError):
    """A body that is not JSON the API reads; FastAPI reports it as an invalid JSON body (422)."""

    def __init__(self, reason: str, body: bytes) -> None:
        super().__init__(reason, body.decode("utf-8", "replace"), 0)


def decode_json(body: bytes) -> Any:
    """The request body as JSON, refused (UnreadableJson) when too deep or not UTF-8 JSON."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise UnreadableJson(TOO_DEEP, body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableJson("not UTF-8", body) from None
    return json.loads(text)


class BoundedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_bounded_json"):
            self._bounded_json = decode_json(await self.body())
        return self._bounded_json


def _is_listed(annotation: Any) -> bool:
    """Whether a parameter's type takes several values (`list[str]`, `list[str] | None`…)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_listed(get_args(annotation)[0])
    if origin is Union or type(annotation).__name__ == "UnionType":
        return any(_is_listed(a) for a in get_args(annotation))
    return isinstance(origin, type) and issubclass(origin, (list, set, frozenset, tuple))


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, bool]]:
    for field in dependant.query_params:
        yield field.alias, _is_listed(field.field_info.annotation)
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def single_valued(dependant: Dependant) -> frozenset[str]:
    """The query parameters of a route that take one value."""
    return frozenset(name for name, listed in _query_fields(dependant) if not listed)


def refuse_repeats(request: Request, names: frozenset[str]) -> None:
    """A parameter that takes one value, given twice, is refused by name: taking either of
    them would be a guess."""
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in request.query_params.multi_items():
        if key in names and key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "repeated_parameter",
                    "loc": ("query", name),
                    "msg": "given more than once; it takes one value",
                    "input": request.query_params.getlist(name),
                }
                for name in repeated
            ]
        )


class JsonBodyRoute(APIRoute):
    """A route whose JSON body is decoded by `decode_json`: FastAPI reads the body through
    `Request.json()`, so the bound applies before its decoder and validation run. A query
    parameter that takes one value and is given twice is refused."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scalars = single_valued(self.dependant)

        async def bounded(request: Request) -> Response:
            refuse_repeats(request, scalars)
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return bounded


def multipart_body(properties: dict[str, Any], *, required: tuple[str, ...] = ("file",)) -> Any:
    """The OpenAPI `requestBody` of an endpoint that reads its multipart form itself (streamed,
    bounded), for `openapi_extra`: FastAPI cannot see a form it does not parse."""
    schema = {"type": "object", "required": list(required), "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
