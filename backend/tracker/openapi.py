"""The OpenAPI document: what FastAPI derives from the routes, completed with what it cannot see.

FastAPI knows each route's parameters, bodies and declared responses. It does not know that
every error is problem+json (its own 422 says application/json), which credentials a route's
access policy takes and what that policy answers without them, that a body can be too large
for the server, or that If-Match is required where the dependency insists on it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tracker.auth.dependencies import ACCESS_COOKIE, SAFE_METHODS, policies_of
from tracker.errors import Problem, problem_response

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/oauth/token",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": ACCESS_COOKIE,
        "description": "The web app's session cookie; changes must come from its origin",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": []}]
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            complete(app, FastAPI.openapi(app))
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def route_policies(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    """(method, path) → the access policies its dependencies declare."""
    found: dict[tuple[str, str], set[str]] = {}
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute) and ctx.path_format:
            for method in ctx.methods or ():
                found[(method.lower(), ctx.path_format)] = policies_of(ctx.dependant)
    return found


def _policy_statuses(policies: set[str], method: str) -> tuple[list[int], Any]:
    """What the access policy answers by itself, and the security requirement it implies."""
    if "authenticated" in policies or any(p.startswith("role:") for p in policies):
        statuses = [401]
        if any(p.startswith("role:") for p in policies) or method.upper() not in SAFE_METHODS:
            statuses.append(403)
        return statuses, SIGNED_IN
    if "public" in policies:
        return [401], [{}, *SIGNED_IN]
    return [], None


def complete(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["securitySchemes"] = SECURITY_SCHEMES

    policies = route_policies(app)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for key, response in responses.items():
                content = response.get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    responses[key] = problem_response(int(key))
            statuses, security = _policy_statuses(policies.get((method, path), set()), method)
            if security is not None:
                operation["security"] = security
            if "requestBody" in operation:
                statuses.append(413)
            for status in statuses:
                responses.setdefault(str(status), problem_response(status))
            operation["responses"] = dict(sorted(responses.items()))
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                    # Missing, it is answered 428 by the dependency rather than 422.
                    parameter["required"] = True
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
