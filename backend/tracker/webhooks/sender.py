"""One try of a delivery over HTTP: to a checked address, bounded in time and in what is read.

The URL's host is resolved and checked (addresses.py) on every try, and the request goes to
the checked address itself, with the URL's host in the Host header and, for https, as the TLS
server name (so the certificate is verified against the host name, not the address). Proxy
settings from the environment are ignored (a proxy would connect wherever it is asked), and
redirects are not followed: a 3xx is a failed try, as is any status outside 2xx.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from tracker.errors import TrackerError
from tracker.webhooks.addresses import AllowedHosts, IPAddress, Target, checked_destination
from tracker.webhooks.models import ERROR_MAX_LENGTH, EXCERPT_MAX_LENGTH

USER_AGENT = "tracker-webhooks/1"


@dataclass(frozen=True, slots=True)
class Answer:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    excerpt: str | None = None


def make_client(*, timeout: float, concurrency: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        # A fresh connection for every try: a pooled one would be reused by address, and so
        # could carry a request for one host name over another's TLS session.
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=0),
    )


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL.
    return value.replace("\x00", "\ufffd")[:limit]


async def post(
    client: httpx.AsyncClient,
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    allowed: AllowedHosts,
    time_limit: float,
) -> Answer:
    """POST `body` to `url` once; never raises for anything the network or receiver does."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(time_limit):
            target, addresses = await checked_destination(url, allowed)
            answer = await _post_to(client, target, addresses, body, headers)
    except TrackerError as exc:  # the URL, its resolution or its address was refused
        return Answer(False, error=_text(exc.detail.removeprefix("url: "), ERROR_MAX_LENGTH))
    except TimeoutError:
        return Answer(False, error=f"no answer within {time_limit:g} s", duration_ms=elapsed())
    except httpx.HTTPError as exc:
        kind = "connection failed" if isinstance(exc, httpx.TransportError) else "HTTP error"
        message = _text(f"{kind}: {exc or type(exc).__name__}", ERROR_MAX_LENGTH)
        return Answer(False, error=message, duration_ms=elapsed())
    return Answer(answer.delivered, answer.status_code, answer.error, elapsed(), answer.excerpt)


async def _post_to(
    client: httpx.AsyncClient,
    target: Target,
    addresses: list[IPAddress],
    body: bytes,
    headers: dict[str, str],
) -> Answer:
    """Try the addresses in order until one accepts the connection."""
    for n, address in enumerate(addresses):
        try:
            return await _post_once(client, target, address, body, headers)
        except httpx.ConnectError:
            if n == len(addresses) - 1:
                raise
    raise AssertionError("no address to try")  # resolve() never returns an empty list


async def _post_once(
    client: httpx.AsyncClient,
    target: Target,
    address: IPAddress,
    body: bytes,
    headers: dict[str, str],
) -> Answer:
    url = httpx.URL(target.url).copy_with(host=str(address))
    extensions = {}
    if target.scheme == "https" and target.address is None:
        extensions["sni_hostname"] = target.host
    request = client.build_request(
        "POST",
        url,
        content=body,
        headers={**headers, "Host": target.host_header, "User-Agent": USER_AGENT},
        extensions=extensions,
    )
    response = await client.send(request, stream=True)
    try:
        excerpt = await _excerpt(response)
    finally:
        await response.aclose()
    status = response.status_code
    if 200 <= status < 300:
        return Answer(True, status, excerpt=excerpt)
    if response.is_redirect:
        location = _text(response.headers.get("location", ""), 200)
        error = f"redirects are not followed ({status} to {location or 'nowhere'})"
    else:
        error = f"the receiver answered {status}"
    return Answer(False, status, error=error, excerpt=excerpt)


async def _excerpt(response: httpx.Response) -> str | None:
    """The start of the answer's body, as text; the rest is never read."""
    received = bytearray()
    async for chunk in response.aiter_bytes():
        received += chunk
        if len(received) >= EXCERPT_MAX_LENGTH:
            break
    if not received:
        return None
    text = bytes(received[:EXCERPT_MAX_LENGTH]).decode("utf-8", "replace")
    return _text(text, EXCERPT_MAX_LENGTH)
