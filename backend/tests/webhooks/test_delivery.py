"""Delivering webhooks to a real receiver: signing, retries, the log, redelivery, and exactly one
send per delivery across overlapping runs and restarts."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.webhooks.conftest import Clock, People, Receiver, Reply, docs_verifier
from tracker.auth.models import User
from tracker.config import Settings
from tracker.webhooks import delivery
from tracker.webhooks.signing import signature
from tracker.worker import runner
from tracker.worker.jobs import JOBS


async def register(
    api: httpx.AsyncClient, people: People, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    made = await api.post(
        "/api/webhooks",
        json={"url": url, "events": events or ["*"]},
        headers=people.headers(people.admin),
    )
    assert made.status_code == 201, made.text
    hook: dict[str, Any] = made.json()
    return hook


async def file_issue(api: httpx.AsyncClient, people: People, user: User, title: str) -> int:
    made = await api.post(
        "/api/issues",
        json={"title": title, "description": "Steps", "severity": "HIGH", "tags": ["export"]},
        headers=people.headers(user),
    )
    assert made.status_code == 201, made.text
    issue_id: int = made.json()["id"]
    return issue_id


async def deliveries(api: httpx.AsyncClient, people: People, hook: dict[str, Any]) -> list[Any]:
    page = await api.get(
        f"/api/webhooks/{hook['id']}/deliveries", headers=people.headers(people.admin)
    )
    assert page.status_code == 200, page.text
    items: list[Any] = page.json()["items"]
    return items


async def test_a_failing_receiver_gets_retries_until_it_answers_2xx(
    api: httpx.AsyncClient, people: People, receiver: Receiver, clock: Clock, run_job: Any
) -> None:
    receiver.answer(Reply(500, b"database is down"), Reply(500))
    hook = await register(api, people, receiver.url(), ["issue.created"])
    issue_id = await file_issue(api, people, people.reporter, "Export fails")

    assert await run_job() == {
        "queued": 1,
        "sent": 1,
        "delivered": 0,
        "retrying": 1,
        "failed": 0,
        "pruned": 0,
    }
    clock.advance(seconds=29)
    assert (await run_job())["sent"] == 0  # the first retry is due 30 s after the failure
    clock.advance(seconds=2)
    assert (await run_job())["retrying"] == 1
    clock.advance(seconds=119)
    assert (await run_job())["sent"] == 0
    clock.advance(seconds=2)
    assert (await run_job())["delivered"] == 1
    clock.advance(days=2)
    assert (await run_job())["sent"] == 0

    [logged] = await deliveries(api, people, hook)
    assert logged["state"] == "DELIVERED" and logged["event"] == "issue.created"
    assert logged["attempt_count"] == 3 and logged["issue_id"] == issue_id
    assert [a["status_code"] for a in logged["attempts"]] == [200, 500, 500]
    assert [a["outcome"] for a in logged["attempts"]] == ["SUCCEEDED", "FAILED", "FAILED"]
    assert logged["attempts"][2]["error"] == "the receiver answered 500"
    assert logged["attempts"][2]["response_excerpt"] == "database is down"
    assert all(a["duration_ms"] is not None for a in logged["attempts"])

    assert len(receiver.received) == 3
    verify = docs_verifier()
    for request in receiver.received:
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == "tracker-webhooks/1"
        assert request.headers["x-tracker-event"] == "issue.created"
        # The same delivery id on every try, in the header and the body.
        assert request.headers["x-tracker-delivery"] == logged["id"]
        assert json.loads(request.body)["id"] == logged["id"]
        assert verify(hook["secret"], request.headers["x-tracker-signature"], request.body)
        assert not verify("whsec_wrong", request.headers["x-tracker-signature"], request.body)
        assert not verify(
            hook["secret"], request.headers["x-tracker-signature"], request.body + b" "
        )

    body = json.loads(receiver.received[-1].body)
    assert body["event"] == "issue.created" and body["event_id"] >= 1
    assert body["created_at"].endswith("Z")
    assert body["actor"] == {"id": people.reporter.id, "full_name": "Rae Reporter"}
    assert body["data"] == {"title": "Export fails", "severity": "HIGH", "tags": ["export"]}
    issue = body["issue"]
    assert issue["id"] == issue_id and issue["title"] == "Export fails"
    assert issue["status"] == "OPEN" and issue["severity"] == "HIGH"
    assert issue["reporter"] == {"id": people.reporter.id, "full_name": "Rae Reporter"}
    assert issue["assignee"] is None and issue["tags"] == ["export"]
    assert issue["url"].endswith(f"/issues/{issue_id}") and issue["deleted"] is False


def test_the_documented_verifier_refuses_an_old_timestamp() -> None:
    verify = docs_verifier()
    body = b'{"id":"x"}'
    now = int(time.time())
    assert verify("whsec_k", signature("whsec_k", body, now), body)
    assert not verify("whsec_k", signature("whsec_k", body, now - 3600), body)
    assert not verify("whsec_k", signature("whsec_k", body, now + 3600), body)
    assert not verify("whsec_k", "v1=abc", body)
    assert not verify("whsec_k", "t=soon,v1=abc", body)


async def test_an_endpoint_gets_the_kinds_it_asked_for_and_star_gets_all(
    api: httpx.AsyncClient, people: People, receiver: Receiver, run_job: Any
) -> None:
    comments_only = await register(api, people, receiver.url("/comments"), ["comment.created"])
    everything = await register(api, people, receiver.url("/all"), ["*"])
    issue_id = await file_issue(api, people, people.reporter, "Crash on save")
    commented = await api.post(
        f"/api/issues/{issue_id}/comments",
        json={"body": "Happens every time"},
        headers=people.headers(people.maintainer),
    )
    assert commented.status_code == 201
    deleted = await api.delete(f"/api/issues/{issue_id}", headers=people.headers(people.admin))
    assert deleted.status_code == 204

    result = await run_job()
    assert result["queued"] == 4 and result["delivered"] == 4

    got: dict[str, list[dict[str, Any]]] = {"/comments": [], "/all": []}
    for request in receiver.received:
        got[request.path].append(json.loads(request.body))
    assert [b["event"] for b in got["/comments"]] == ["comment.created"]
    kinds = [b["event"] for b in sorted(got["/all"], key=lambda b: b["event_id"])]
    assert kinds == ["issue.created", "comment.created", "issue.deleted"]
    gone = next(b for b in got["/all"] if b["event"] == "issue.deleted")
    assert gone["issue"] == {"id": issue_id, "deleted": True}
    assert gone["actor"]["id"] == people.admin.id
    assert len(await deliveries(api, people, comments_only)) == 1
    assert len(await deliveries(api, people, everything)) == 3


async def test_only_events_after_registration_and_while_on_are_delivered(
    api: httpx.AsyncClient, people: People, receiver: Receiver, run_job: Any
) -> None:
    await file_issue(api, people, people.reporter, "Before the webhook")
    hook = await register(api, people, receiver.url())
    admin = people.headers(people.admin)
    await api.patch(f"/api/webhooks/{hook['id']}", json={"active": False}, headers=admin)
    await file_issue(api, people, people.reporter, "While it was off")
    assert (await run_job())["queued"] == 0
    await api.patch(f"/api/webhooks/{hook['id']}", json={"active": True}, headers=admin)
    await file_issue(api, people, people.reporter, "After it came back")

    assert (await run_job())["delivered"] == 1
    assert [json.loads(r.body)["issue"]["title"] for r in receiver.received] == [
        "After it came back"
    ]


async def test_the_address_rule_applies_again_when_sending(
    api: httpx.AsyncClient,
    people: People,
    receiver: Receiver,
    run_job: Any,
    hook_settings: Settings,
) -> None:
    # Allowed when registered; by the time it is sent, the receiver's address no longer is
    # (as when a name that resolved to a public address now resolves to a loopback one).
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Anything")
    strict = hook_settings.model_copy(update={"webhook_allowed_hosts": []})

    assert (await run_job(strict))["retrying"] == 1
    assert receiver.received == []
    [logged] = await deliveries(api, people, hook)
    [attempt] = logged["attempts"]
    assert attempt["outcome"] == "FAILED" and attempt["status_code"] is None
    assert "127.0.0.1" in attempt["error"] and "loopback" in attempt["error"]


async def test_redeliver_sends_a_delivery_again_under_its_id(
    api: httpx.AsyncClient, people: People, receiver: Receiver, clock: Clock, run_job: Any
) -> None:
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Lost by the receiver")
    assert (await run_job())["delivered"] == 1
    [logged] = await deliveries(api, people, hook)

    again = await api.post(
        f"/api/webhooks/{hook['id']}/deliveries/{logged['id']}/redeliver",
        headers=people.headers(people.admin),
    )
    assert again.status_code == 202, again.text
    assert again.json()["state"] == "PENDING" and again.json()["tries"] == 0
    assert again.json()["attempt_count"] == 1
    clock.advance(minutes=1)  # the request queued it at the real time
    assert (await run_job())["delivered"] == 1

    ids = [r.headers["x-tracker-delivery"] for r in receiver.received]
    assert ids == [logged["id"], logged["id"]]
    [logged] = await deliveries(api, people, hook)
    assert logged["state"] == "DELIVERED" and logged["attempt_count"] == 2

    other = await register(api, people, receiver.url("/other"))
    wrong = await api.post(
        f"/api/webhooks/{other['id']}/deliveries/{logged['id']}/redeliver",
        headers=people.headers(people.admin),
    )
    assert wrong.status_code == 404 and wrong.json()["code"] == "delivery_not_found"


async def test_overlapping_runs_send_each_delivery_once(
    api: httpx.AsyncClient, people: People, receiver: Receiver, run_job: Any
) -> None:
    await register(api, people, receiver.url())
    for n in range(3):
        await file_issue(api, people, people.reporter, f"Issue {n}")
    receiver.answer(*[Reply(200, delay=0.5)] * 3)

    # Two runs at once, from the start…
    both = await asyncio.gather(run_job(), run_job())
    assert sorted(r["sent"] for r in both) == [0, 3]
    assert len(receiver.received) == 3

    # …and one starting while the other is sending.
    for n in range(3, 6):
        await file_issue(api, people, people.reporter, f"Issue {n}")
    receiver.answer(*[Reply(200, delay=0.5)] * 3)
    first = asyncio.create_task(run_job())
    for _ in range(200):
        if len(receiver.received) > 3:
            break
        await asyncio.sleep(0.05)
    second = await run_job()
    assert second["sent"] == 0
    assert (await first)["delivered"] == 3

    ids = [r.headers["x-tracker-delivery"] for r in receiver.received]
    assert len(ids) == 6 and len(set(ids)) == 6


async def test_a_crash_between_queueing_and_sending_still_sends_once(
    api: httpx.AsyncClient,
    people: People,
    receiver: Receiver,
    clock: Clock,
    run_job: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
) -> None:
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Queued, then the worker died")
    await file_issue(api, people, people.reporter, "Claimed, then the worker died")

    # A run that queued the events and died before claiming anything…
    async with sessionmaker() as session:
        assert await delivery.queue_new_events(session, now=clock()) == 2
        await session.commit()
    # …and, after the restart, one that claimed one delivery and died before sending it.
    one = hook_settings.model_copy(update={"webhook_batch_size": 1})
    async with sessionmaker() as session:
        claimed = await delivery.claim_due(session, one, now=clock())
        assert len(claimed.claims) == 1
        await session.commit()

    # The next run sends the unclaimed one; the claimed one waits for its lease to end.
    assert await run_job() == {
        "queued": 0,
        "sent": 1,
        "delivered": 1,
        "retrying": 0,
        "failed": 0,
        "pruned": 0,
    }
    clock.advance(seconds=delivery.lease_for(one).total_seconds() + 1)
    assert (await run_job())["delivered"] == 1
    # Queueing the same events again makes nothing new.
    async with sessionmaker() as session:
        await session.execute(text("UPDATE webhook_cursor SET last_event_id = 0"))
        await session.commit()
    clock.advance(days=1)
    assert (await run_job())["queued"] == 0

    ids = [r.headers["x-tracker-delivery"] for r in receiver.received]
    assert len(ids) == 2 and len(set(ids)) == 2
    logged = {d["id"]: d for d in await deliveries(api, people, hook)}
    interrupted = logged[str(claimed.claims[0].id)]
    assert [a["outcome"] for a in interrupted["attempts"]] == ["SUCCEEDED", None]


async def test_a_delivery_fails_for_good_after_seven_tries_over_a_day(
    api: httpx.AsyncClient, people: People, receiver: Receiver, clock: Clock, run_job: Any
) -> None:
    receiver.answer(*[Reply(503)] * 10)
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Never accepted")
    started = clock()

    assert (await run_job())["retrying"] == 1
    waits = []
    for _ in range(6):
        [logged] = await deliveries(api, people, hook)
        due = datetime.fromisoformat(logged["next_attempt_at"])
        waits.append(due - clock())
        clock.now = due + timedelta(seconds=1)
        result = await run_job()
    assert result["failed"] == 1
    assert waits[0] <= timedelta(minutes=1)
    assert [w.total_seconds() for w in waits] == [30, 120, 600, 3600, 21600, 64800]
    assert timedelta(hours=20) < clock() - started < timedelta(hours=30)

    [logged] = await deliveries(api, people, hook)
    assert logged["state"] == "FAILED" and logged["next_attempt_at"] is None
    assert logged["attempt_count"] == 7 and len(receiver.received) == 7
    clock.advance(days=3)
    assert (await run_job())["sent"] == 0


async def test_redirects_are_failures_not_followed(
    api: httpx.AsyncClient, people: People, receiver: Receiver, run_job: Any
) -> None:
    receiver.answer(Reply(302, b"", headers={"Location": receiver.url("/elsewhere")}))
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Moved")

    assert (await run_job())["retrying"] == 1
    assert [r.path for r in receiver.received] == ["/hook"]
    [logged] = await deliveries(api, people, hook)
    assert logged["attempts"][0]["status_code"] == 302
    assert "redirects are not followed" in logged["attempts"][0]["error"]


async def test_a_slow_receiver_times_out_and_a_long_answer_is_cut(
    api: httpx.AsyncClient,
    people: People,
    receiver: Receiver,
    run_job: Any,
    hook_settings: Settings,
) -> None:
    receiver.answer(Reply(200, delay=3.0), Reply(400, "é".encode() * 3000))
    hook = await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Slow")
    await file_issue(api, people, people.reporter, "Chatty")
    quick = hook_settings.model_copy(
        update={"webhook_timeout_seconds": 0.5, "webhook_concurrency": 1}
    )

    assert (await run_job(quick))["retrying"] == 2
    attempts = [d["attempts"][0] for d in await deliveries(api, people, hook)]
    chatty, slow = attempts  # newest first
    assert slow["error"] == "no answer within 0.5 s" and slow["status_code"] is None
    assert chatty["status_code"] == 400
    assert chatty["response_excerpt"] == "é" * 512


async def test_the_worker_job_runs_deliveries_every_few_seconds(
    api: httpx.AsyncClient,
    people: People,
    receiver: Receiver,
    hook_settings: Settings,
    hook_app: FastAPI,
) -> None:
    job = JOBS["deliver_webhooks"]
    assert job.interval_seconds(hook_settings) == 5.0
    assert job.interval_seconds(hook_settings.model_copy(update={"worker_tick_seconds": 1})) == 1
    await register(api, people, receiver.url())
    await file_issue(api, people, people.reporter, "Through the runner")

    result = await runner.run_job("deliver_webhooks", hook_settings)
    assert result["delivered"] == 1
    assert (await runner.run_job("deliver_webhooks", hook_settings))["sent"] == 0
    assert len(receiver.received) == 1


async def test_a_try_connects_to_the_checked_address_and_names_the_host(
    api: httpx.AsyncClient,
    people: People,
    receiver: Receiver,
    run_job: Any,
    hook_settings: Settings,
    hook_app: FastAPI,
) -> None:
    by_name = hook_settings.model_copy(update={"webhook_allowed_hosts": ["localhost"]})
    hook_app.state.settings = by_name
    await register(api, people, f"http://localhost:{receiver.port}/named?x=1")
    await file_issue(api, people, people.reporter, "Named")

    assert (await run_job(by_name))["delivered"] == 1
    [request] = receiver.received
    assert request.path == "/named?x=1"
    assert request.headers["host"] == f"localhost:{receiver.port}"
