"""Schema-driven fuzzing of every operation, as each role and anonymously.

Schemathesis draws requests from the OpenAPI document the app serves (valid ones, and ones
that break the schema on purpose) and checks every answer: no server error, the status, the
content type, the headers and the body as the document declares them, valid data accepted,
invalid data refused, required headers required, undeclared methods answered 405 with Allow,
and declared authentication enforced. Runs are reproducible: Hypothesis is derandomized.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import hypothesis
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz.conftest import ROLES, World
from tracker.app import create_app
from tracker.config import Environment, Settings
from tracker.roles import Role

MAX_EXAMPLES = 10
COVERAGE_ROLES = [Role.ADMIN, Role.REPORTER, None]


def _served_schema() -> dict[str, Any]:
    """The document the app serves (building it needs no database), as schemathesis drives it.

    A multipart part carries bytes whatever type the schema gives it, so a body made invalid
    by giving a file part another type is, on the wire, a valid file: schemathesis cannot
    make invalid multipart bodies. POST /api/issues is fuzzed with its JSON body, and the
    upload and import routes with valid bodies only; test_odd_inputs covers multipart by hand.
    """
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url="postgresql+asyncpg://unused/schema",
        secret_key="schema-only-" + "x" * 40,
    )
    document = copy.deepcopy(create_app(settings).openapi())
    del document["paths"]["/api/issues"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return document


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261202,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "operations": [
            {
                "include-path": path,
                "include-method": "POST",
                "generation": {"mode": "positive"},
            }
            for path in ("/api/issues/{issue_id}/attachments", "/api/imports")
        ],
        "checks": {
            # A missing If-Match is answered 428 Precondition Required (RFC 6585), the status
            # made for exactly that.
            "missing_required_header": {
                "expected-statuses": [400, 401, 403, 406, 415, 422, 428],
            },
        },
    }
)


class _AppOfTheSession:
    """Stands in for the app until the session's database is up (schemas load at import)."""

    target: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None
        await self.target(scope, receive, send)


APP = _AppOfTheSession()
schema = schemathesis.openapi.from_dict(_served_schema(), config=CONFIG)
schema.app = APP  # where cases and the checks' own probes are sent


@dataclass(frozen=True)
class Refusal:
    """An answer to a schema-valid request that depends on what is stored or configured, or on
    a rule JSON Schema cannot state; `why` says which."""

    method: str
    path: str
    status: int
    code: str
    why: str
    message: str = ""  # a part of the message, where the code alone is too broad

    def explains(self, case: schemathesis.Case, response: schemathesis.Response) -> bool:
        body = _json(response)
        code = str(body.get("code") or body.get("error") or "")
        messages = [str(body.get("detail", ""))] + [
            str(e.get("message", "")) for e in body.get("errors") or []
        ]
        return (
            (case.method.upper(), case.path, response.status_code, code)
            == (self.method, self.path, self.status, self.code)
        ) and any(self.message in m for m in messages)


REFUSALS = [
    Refusal(
        "POST",
        "/api/issues/{issue_id}/attachments",
        415,
        "file_type_not_allowed",
        "a file's type is decided from its bytes",
    ),
    Refusal(
        "GET", "/api/issues", 400, "invalid_cursor", "a cursor is valid as next_cursor gave it"
    ),
    Refusal(
        "PATCH", "/api/issues/{issue_id}", 412, "version_mismatch", "If-Match is another version"
    ),
    Refusal(
        "PATCH", "/api/issues/{issue_id}", 422, "invalid_assignee", "who may be assigned is data"
    ),
    Refusal("POST", "/api/auth/signup", 422, "weak_password", "the password rules are in words"),
    *(
        Refusal(method, path, 422, code, why)
        for method, path in (("POST", "/api/webhooks"), ("PATCH", "/api/webhooks/{webhook_id}"))
        for code, why in (
            ("invalid_webhook_url", "a URL's host and port are rules beyond its pattern"),
            ("webhook_host_not_found", "whether a host name resolves is the DNS's to say"),
            ("webhook_address_not_allowed", "so is whether it resolves to a public address"),
        )
    ),
    *(
        Refusal("POST", "/api/imports", status, code, why)
        for status, code, why in (
            (422, "not_utf8", "whether a file is UTF-8 text is in its bytes"),
            (422, "missing_column", "so is whether its header names a title"),
            (422, "duplicate_column", "and whether two columns map to one field"),
            (422, "invalid_csv", "and whether it is CSV"),
            (422, "invalid_json", "or JSON, an array of objects"),
            (422, "empty_file", "or holds anything"),
            (422, "invalid_mapping", "a mapping's fields are listed in words"),
            (422, "validation_error", "the mapping is JSON inside a form field"),
        )
    ),
    Refusal(
        "POST",
        "/api/auth/signup",
        422,
        "validation_error",
        "addresses at special-use names (RFC 6761: .test, .local…) receive no mail",
        message="special-use or reserved name",
    ),
    Refusal(
        "POST", "/api/oauth/authorize", 400, "invalid_client", "registered clients are configured"
    ),
    Refusal("POST", "/api/oauth/authorize", 400, "invalid_redirect_uri", "so are redirect URIs"),
    Refusal("POST", "/api/oauth/authorize", 400, "invalid_request", "the S256 challenge, in words"),
    *(
        Refusal("POST", "/api/oauth/token", status, error, "RFC 6749 §5.2: the grant must exist")
        for status, error in (
            (400, "invalid_request"),
            (400, "invalid_grant"),
            (400, "unsupported_grant_type"),
            (401, "invalid_client"),
        )
    ),
]


def _json(response: schemathesis.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def accepts_valid_data(
    ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """positive_data_acceptance, but for the refusals listed in REFUSALS."""
    if any(refusal.explains(case, response) for refusal in REFUSALS):
        return None
    return positive_data_acceptance(ctx, response, case)


def steer(case: schemathesis.Case, world: World) -> None:
    """Point most valid requests at seeded rows; the rest keep their drawn (missing) ids."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    for name, value in list((case.path_parameters or {}).items()):
        if name in world.ids and isinstance(value, int) and value % 4 != 3:
            seeded = world.ids[name]
            case.path_parameters[name] = seeded[value % len(seeded)]
        elif name == "attachment_id" and isinstance(value, str) and value[-1] in "02468ace":
            case.path_parameters[name] = str(world.attachments[0])
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("assignee_id"), int):
        users = world.ids["user_id"]
        body["assignee_id"] = users[body["assignee_id"] % len(users)]


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, world: World, fuzz_app: FastAPI
) -> None:
    APP.target = fuzz_app
    steer(case, world)
    # Every role sends the same drawn request: what one may do and another may not shows
    # here. The coverage phase's boundary values do not depend on who sends them, so they go
    # as the roles at either end and anonymously, which keeps the run short.
    coverage = case.meta is not None and case.meta.phase.name == "coverage"
    for role in COVERAGE_ROLES if coverage else ROLES:
        case.call_and_validate(
            headers=world.headers[role],
            excluded_checks=[positive_data_acceptance],
            additional_checks=[accepts_valid_data],
        )
