from __future__ import annotations

import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import UserFactory
from tracker.app import create_app
from tracker.auth.models import User
from tracker.auth.tokens import decode_access_token, issue_access_token
from tracker.config import Environment, Settings
from tracker.roles import Role

AuthHeaders = Callable[[User], dict[str, str]]


async def test_healthz_answers_with_request_id(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/api/healthz"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert len(response.headers["x-request-id"]) == 32


async def test_request_id_from_the_caller_is_kept_when_safe(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert replaced.headers["x-request-id"] != "bad id\nwith newline"


async def test_readyz_reports_database_and_migration_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["migration"] == client._transport.app.state.migration_head  # type: ignore[attr-defined]


async def test_readyz_is_503_when_schema_is_behind(client: httpx.AsyncClient, app: object) -> None:
    app.state.migration_head = "9999"  # type: ignore[attr-defined]
    try:
        response = await client.get("/readyz")
    finally:
        from tracker.migrations import head_revision

        app.state.migration_head = head_revision()  # type: ignore[attr-defined]
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "migrations_pending"


async def test_docs_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    schema = await client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/healthz" in schema.json()["paths"]


async def test_the_docs_page_loads_everything_from_the_api_itself(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/api/docs")).text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/api/"), f"{asset} comes from another origin"
        assert (await client.get(asset)).status_code == 200, asset


async def test_the_docs_are_off_in_production_unless_allowed(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": Environment.PRODUCTION})
    for configured, served in (
        (production, 404),
        (production.model_copy(update={"api_docs_public": True}), 200),
    ):
        application = create_app(configured)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/api/docs")).status_code == served
            assert (await c.get("/api/openapi.json")).status_code == 200


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/api/no-such-thing")
    metrics = (await client.get("/metrics")).text
    assert 'tracker_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    assert 'route="unmatched",status="404"' in metrics
    assert "tracker_http_request_duration_seconds_bucket" in metrics


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/nowhere", json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert body["status"] == 404
    assert "POST /api/nowhere" in body["detail"]


async def test_wrong_method_is_405_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(
            _env_file=None,
            environment=Environment.PRODUCTION,
            database_url="postgresql+asyncpg://x/y",
        )  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(
            _env_file=None,
            environment=Environment.PRODUCTION,
            secret_key="short",
            database_url="postgresql+asyncpg://x/y",
        )  # type: ignore[call-arg]
    ok = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        secret_key="s" * 40,
        database_url="postgresql+asyncpg://x/y",
    )  # type: ignore[call-arg]
    assert ok.environment is Environment.PRODUCTION


def test_each_install_makes_its_own_signing_key_keeps_it_private_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)

    def install(folder: str) -> Settings:
        return Settings(_env_file=None, secret_key_file=tmp_path / folder / "secret_key")  # type: ignore[call-arg]

    first = install("one")
    assert first.signing_key_origin == "generated"
    key_file = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    again = install("one")
    assert (again.signing_key_origin, again.secret_key) == ("file", first.secret_key)
    # Another install never shares the key: a token signed by one is worthless to the other.
    other = install("two")
    assert other.secret_key != first.secret_key
    token = issue_access_token(first, 1, session_id=uuid.uuid4())
    assert decode_access_token(first, token) is not None
    assert decode_access_token(other, token) is None
    assert list((tmp_path / "one").iterdir()) == [key_file], "no temporary file left behind"


def test_a_short_secret_key_is_refused_in_every_mode(tmp_path: Path) -> None:
    for environment in Environment:
        with pytest.raises(ValueError, match="at least 32"):
            Settings(
                _env_file=None,
                environment=environment,
                secret_key="short",
                database_url="postgresql+asyncpg://x/y",
            )  # type: ignore[call-arg]
    (tmp_path / "secret_key").write_text("tiny\n")
    with pytest.raises(ValueError, match="no usable signing key"):
        Settings(_env_file=None, secret_key_file=tmp_path / "secret_key")  # type: ignore[call-arg]


def test_production_requires_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Settings(_env_file=None, environment=Environment.PRODUCTION, secret_key="s" * 40)  # type: ignore[call-arg]


def test_app_refuses_to_start_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(Settings(_env_file=None))  # type: ignore[call-arg]


async def test_malformed_json_is_a_clear_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup",
        content=b'{"email": "a@example.com", "password":',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body is not valid JSON"


async def test_wrong_types_name_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", json={"email": 42, "password": ["x"], "full_name": None}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    fields = {e["field"] for e in body["errors"]}
    assert {"email", "password"} <= fields
    assert "email" in body["detail"]


async def test_path_parameter_of_the_wrong_type_is_4xx(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/issues/not-a-number")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_text_with_a_nul_character_is_422_not_a_server_error(
    client: httpx.AsyncClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    response = await client.get("/api/issues?tag=a%00b", headers=auth(maintainer))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tag.0"
    created = await client.post(
        "/api/issues",
        json={"title": "nul\u0000inside", "description": "", "severity": "LOW", "tags": []},
        headers=auth(maintainer),
    )
    assert created.status_code == 422


async def test_ids_beyond_the_integer_range_are_4xx(
    client: httpx.AsyncClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    admin = await make_user(Role.ADMIN)
    response = await client.patch(
        "/api/users/3699169982", json={"is_active": False}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
