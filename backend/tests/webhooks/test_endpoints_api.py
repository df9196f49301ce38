"""Registering webhooks: ADMINs only, the secret shown once, kinds and URLs checked."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.webhooks.conftest import People, use_settings
from tracker.auth.models import User
from tracker.openapi import route_policies

PUBLIC = "http://93.184.216.34/hooks/tracker"  # an address literal: no name to resolve


async def _create(
    api: httpx.AsyncClient, admin: dict[str, str], url: str = PUBLIC, **body: object
) -> httpx.Response:
    return await api.post(
        "/api/webhooks", json={"url": url, "events": ["issue.created"], **body}, headers=admin
    )


async def test_the_secret_is_shown_when_made_and_never_again(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = people.headers(people.admin)
    made = await _create(api, admin, description="  Chat bridge ")
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret)
    assert hook["description"] == "Chat bridge"
    assert hook["events"] == ["issue.created"]
    assert hook["active"] is True and hook["last_delivery"] is None

    listed = await api.get("/api/webhooks", headers=admin)
    one = await api.get(f"/api/webhooks/{hook['id']}", headers=admin)
    changed = await api.patch(
        f"/api/webhooks/{hook['id']}", json={"description": "Renamed"}, headers=admin
    )
    for response in (listed, one, changed):
        assert response.status_code == 200
        assert secret not in response.text and "secret" not in response.text

    rotated = await api.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != secret
    assert rotated.json()["secret"] not in (await api.get("/api/webhooks", headers=admin)).text


async def test_events_are_known_kinds_or_everything(api: httpx.AsyncClient, people: People) -> None:
    admin = people.headers(people.admin)
    unknown = await _create(api, admin, events=["issue.created", "issue.exploded", "nope"])
    assert unknown.status_code == 422
    problem = unknown.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == "events"
    assert "issue.exploded, nope" in problem["errors"][0]["message"]

    everything = await _create(api, admin, events=["comment.created", "*"])
    assert everything.json()["events"] == ["*"]
    ordered = await _create(
        api, admin, events=["comment.created", "issue.created", "comment.created"]
    )
    assert ordered.json()["events"] == ["issue.created", "comment.created"]
    assert (await _create(api, admin, events=[])).status_code == 422

    kinds = await api.get("/api/webhooks/events", headers=admin)
    assert [k["kind"] for k in kinds.json()][:3] == [
        "issue.created",
        "issue.updated",
        "issue.deleted",
    ]


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("http://127.0.0.1/hook", "webhook_address_not_allowed", "loopback"),
        ("http://localhost:8000/hook", "webhook_address_not_allowed", "loopback"),
        ("http://10.1.2.3/hook", "webhook_address_not_allowed", "private"),
        ("http://192.168.0.10/hook", "webhook_address_not_allowed", "private"),
        ("http://169.254.169.254/latest/meta-data", "webhook_address_not_allowed", "link-local"),
        ("http://100.64.0.1/hook", "webhook_address_not_allowed", "not a public"),
        ("http://0.0.0.0/hook", "webhook_address_not_allowed", "unspecified"),
        ("http://224.0.0.1/hook", "webhook_address_not_allowed", "multicast"),
        ("http://[::1]/hook", "webhook_address_not_allowed", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "webhook_address_not_allowed", "loopback"),
        ("http://[64:ff9b::a00:1]/hook", "webhook_address_not_allowed", "private"),
        ("http://[fe80::1]/hook", "webhook_address_not_allowed", "link-local"),
        ("http://[fd00::1]/hook", "webhook_address_not_allowed", "private"),
        ("http://2130706433/hook", "webhook_address_not_allowed", "loopback"),
        ("http://user:pass@93.184.216.34/hook", "invalid_webhook_url", "credentials"),
        ("http://93.184.216.34:0/hook", "invalid_webhook_url", "port 0"),
        ("http://93.184.216.34:99999/hook", "invalid_webhook_url", "not a valid URL"),
        ("http://exa%41mple.com/hook", "invalid_webhook_url", "not a valid host name"),
        ("http://no-such-host.invalid/hook", "webhook_host_not_found", "cannot be resolved"),
    ],
)
async def test_urls_that_reach_inside_the_network_are_refused(
    api: httpx.AsyncClient,
    people: People,
    hook_app: FastAPI,
    url: str,
    code: str,
    says: str,
) -> None:
    use_settings(hook_app, webhook_allowed_hosts=[])  # nothing allowed: the rule itself
    response = await _create(api, people.headers(people.admin), url=url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert says in response.json()["detail"]
    assert (await api.get("/api/webhooks", headers=people.headers(people.admin))).json() == []


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/x", "javascript:alert(1)", "http://", "x" * 9]
)
async def test_only_http_urls_match_the_schema(
    api: httpx.AsyncClient, people: People, url: str
) -> None:
    response = await _create(api, people.headers(people.admin), url=url)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"


async def test_a_url_longer_than_the_bound_is_refused(
    api: httpx.AsyncClient, people: People
) -> None:
    response = await _create(api, people.headers(people.admin), url=PUBLIC + "/" + "a" * 2048)
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "string_too_long"


async def test_allowed_hosts_let_a_receiver_inside_the_network_in(
    api: httpx.AsyncClient, people: People, hook_app: FastAPI
) -> None:
    admin = people.headers(people.admin)
    # By address: that address, whichever way the URL names it.
    assert (await _create(api, admin, url="http://127.0.0.1:9/hook")).status_code == 201
    refused = await _create(api, admin, url="http://10.0.0.5/hook")
    assert refused.json()["code"] == "webhook_address_not_allowed"
    # By name: whatever the name resolves to.
    use_settings(hook_app, webhook_allowed_hosts=["LocalHost"])
    assert (await _create(api, admin, url="http://localhost:9/hook")).status_code == 201
    assert (await _create(api, admin, url="http://127.0.0.1:9/hook")).status_code == 422


async def test_update_checks_the_new_url_and_delete_removes(
    api: httpx.AsyncClient, people: People
) -> None:
    admin = people.headers(people.admin)
    hook = (await _create(api, admin)).json()
    path = f"/api/webhooks/{hook['id']}"

    moved = await api.patch(path, json={"url": "http://10.9.8.7/x"}, headers=admin)
    assert moved.status_code == 422 and moved.json()["code"] == "webhook_address_not_allowed"
    changed = await api.patch(
        path, json={"events": ["*"], "active": False, "url": PUBLIC + "/v2"}, headers=admin
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["*"] and changed.json()["active"] is False
    assert changed.json()["url"] == PUBLIC + "/v2"
    assert (await api.patch(path, json={"secret": "mine"}, headers=admin)).status_code == 422

    assert (await api.delete(path, headers=admin)).status_code == 204
    for response in (
        await api.get(path, headers=admin),
        await api.delete(path, headers=admin),
        await api.patch(path, json={"active": True}, headers=admin),
        await api.post(f"{path}/rotate-secret", headers=admin),
        await api.get(f"{path}/deliveries", headers=admin),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "webhook_not_found"
    missing = await api.post(f"{path}/deliveries/{uuid.uuid4()}/redeliver", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "delivery_not_found"


def _calls(hook_id: int) -> dict[tuple[str, str], Callable[[httpx.AsyncClient, dict], object]]:
    base = f"/api/webhooks/{hook_id}"
    return {
        ("GET", "/api/webhooks"): lambda c, h: c.get("/api/webhooks", headers=h),
        ("GET", "/api/webhooks/events"): lambda c, h: c.get("/api/webhooks/events", headers=h),
        ("POST", "/api/webhooks"): lambda c, h: c.post(
            "/api/webhooks", json={"url": PUBLIC, "events": ["*"]}, headers=h
        ),
        ("GET", "/api/webhooks/{webhook_id}"): lambda c, h: c.get(base, headers=h),
        ("PATCH", "/api/webhooks/{webhook_id}"): lambda c, h: c.patch(
            base, json={"description": "x"}, headers=h
        ),
        ("DELETE", "/api/webhooks/{webhook_id}"): lambda c, h: c.delete(base, headers=h),
        ("POST", "/api/webhooks/{webhook_id}/rotate-secret"): lambda c, h: c.post(
            f"{base}/rotate-secret", headers=h
        ),
        ("GET", "/api/webhooks/{webhook_id}/deliveries"): lambda c, h: c.get(
            f"{base}/deliveries", headers=h
        ),
        ("POST", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): lambda c, h: (
            c.post(f"{base}/deliveries/{uuid.uuid4()}/redeliver", headers=h)
        ),
    }


async def test_every_webhook_route_is_for_admins_only(
    api: httpx.AsyncClient, people: People, app: FastAPI
) -> None:
    hook = (await _create(api, people.headers(people.admin))).json()
    calls = _calls(hook["id"])
    policies = {
        (method.upper(), path): policy
        for (method, path), policy in route_policies(app).items()
        if path.startswith("/api/webhooks")
    }
    assert set(policies) == set(calls)
    assert all(policy == {"role:ADMIN"} for policy in policies.values())
    callers: list[tuple[User | None, int]] = [
        (None, 401),
        (people.reporter, 403),
        (people.maintainer, 403),
    ]
    for (method, path), call in calls.items():
        for who, expected in callers:
            headers = {} if who is None else people.headers(who)
            response = await call(api, headers)  # type: ignore[misc]
            assert response.status_code == expected, (method, path, who)
            assert response.json()["code"] in ("unauthorized", "role_required")
    # Nothing above changed the endpoint.
    assert (await api.get("/api/webhooks", headers=people.headers(people.admin))).json()[0][
        "description"
    ] == ""
