"""The address rule on its own: which addresses a webhook may reach, and the URL's parts."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

import tracker
from tracker.webhooks.addresses import (
    AddressNotAllowed,
    AllowedHosts,
    InvalidUrl,
    check_addresses,
    parse_url,
    refusal,
    resolve,
)
from tracker.webhooks.schemas import EVENT_KINDS

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "not a public address",
    "0.0.0.0": "unspecified",  # noqa: S104 (an address refused, not bound)
    "0.1.2.3": "private",
    "224.0.0.251": "multicast",
    "255.255.255.255": "private",
    "240.0.0.1": "private",
    "192.0.2.10": "private",  # documentation
    "198.18.0.1": "private",  # benchmarking
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fd12:3456::1": "private",
    "ff02::1": "multicast",
    "2001:db8::1": "private",  # documentation
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe": "link-local",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1": "loopback",  # 6to4 of 127.0.0.1
    "2002:a00:1::1": "private",  # 6to4 of 10.0.0.1
    "::1.2.3.4": "reserved",  # IPv4-compatible (deprecated)
    "64:ff9b:1::1": "reserved",  # local-use NAT64
}
PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:93.184.216.34",  # mapped: judged by the IPv4 address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8, as DNS64 networks answer
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
]


@pytest.mark.parametrize(("address", "why"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    expected = why if why.startswith("not ") else f"a {why} address"
    assert refusal(ipaddress.ip_address(address)) == expected


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_every_resolved_address_must_be_public() -> None:
    target = parse_url("https://hooks.example.com/tracker")
    public = ipaddress.ip_address("93.184.216.34")
    inside = ipaddress.ip_address("10.0.0.7")
    nobody = AllowedHosts.parse([])
    assert check_addresses(target, [public], nobody) == [public]
    # A name that resolves to a public and a private address (or that is made to, at the
    # moment of sending) is refused: a connection could land on either.
    with pytest.raises(AddressNotAllowed, match=r"hooks\.example\.com points to 10\.0\.0\.7"):
        check_addresses(target, [public, inside], nobody)
    with pytest.raises(AddressNotAllowed, match=r"::ffff:127\.0\.0\.1,"):
        check_addresses(target, [ipaddress.ip_address("::ffff:127.0.0.1")], nobody)


def test_allowed_hosts_exempt_a_name_or_an_address() -> None:
    inside = ipaddress.ip_address("10.0.0.7")
    allowed = AllowedHosts.parse([" Hooks.Internal. ", "10.0.0.7", "[fd00::5]", ""])
    assert allowed.names == {"hooks.internal"}
    assert allowed.addresses == {inside, ipaddress.ip_address("fd00::5")}
    by_name = parse_url("http://hooks.internal:8080/x")
    assert check_addresses(by_name, [ipaddress.ip_address("10.9.9.9")], allowed)
    other = parse_url("http://other.internal/x")
    assert check_addresses(other, [inside], allowed) == [inside]
    with pytest.raises(AddressNotAllowed):
        check_addresses(other, [inside, ipaddress.ip_address("10.0.0.8")], allowed)


@pytest.mark.parametrize(
    ("url", "host", "port", "host_header"),
    [
        ("https://Hooks.Example.com/a?b=1", "hooks.example.com", 443, "hooks.example.com"),
        ("http://hooks.example.com:8080/", "hooks.example.com", 8080, "hooks.example.com:8080"),
        ("https://[2606:4700::1]:8443/x", "2606:4700::1", 8443, "[2606:4700::1]:8443"),
        ("https://bücher.example/x", "xn--bcher-kva.example", 443, "xn--bcher-kva.example"),
        ("HTTP://93.184.216.34/x", "93.184.216.34", 80, "93.184.216.34"),
    ],
)
def test_urls_are_taken_apart(url: str, host: str, port: int, host_header: str) -> None:
    target = parse_url(url)
    assert (target.host, target.port, target.host_header) == (host, port, host_header)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "http:///path",
        "http://user@example.com/",
        "http://[::1/",
        "http://exa mple.com/",
        "http://-bad-.example/",
        "http://" + "a" * 64 + ".example/",
    ],
)
def test_unusable_urls_are_invalid(url: str) -> None:
    with pytest.raises(InvalidUrl):
        parse_url(url)


async def test_resolution_gives_each_address_once() -> None:
    assert await resolve(parse_url("http://127.0.0.1:9/")) == [ipaddress.ip_address("127.0.0.1")]
    found = await resolve(parse_url("http://localhost:9/"))
    assert found and all(a.is_loopback for a in found) and len(set(found)) == len(found)


def test_every_recorded_event_kind_can_be_subscribed_to() -> None:
    root = Path(tracker.__file__).parent
    recorded = {
        kind
        for path in root.rglob("*.py")
        for kind in re.findall(r'\bkind="([a-z]+\.[a-z_]+)"', path.read_text())
    }
    assert recorded, "no kind= found: the pattern is out of date"
    assert recorded <= set(EVENT_KINDS), recorded - set(EVENT_KINDS)
