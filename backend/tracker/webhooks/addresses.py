"""Where a webhook may point: an http(s) URL whose host resolves only to public addresses.

Checked when an endpoint is registered and again before every try, after resolving the name:
the try connects to an address that was just checked (never resolving the name a second time),
so a name that points elsewhere a moment later (DNS rebinding) cannot steer a delivery into
the tracker's own network. Every address a name resolves to must be public: loopback,
link-local, private, shared (CGNAT), multicast, unspecified, reserved and documentation
ranges are refused, IPv4 and IPv6 alike, and an IPv6 address that carries an IPv4 one
(IPv4-mapped, NAT64, 6to4) is judged by the IPv4 address inside it. Hosts and addresses in
WEBHOOK_ALLOWED_HOSTS are exempt: a receiver inside the network, on purpose.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.errors import Unprocessable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT_SECONDS = 5.0
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")


class InvalidUrl(Unprocessable):
    code = "invalid_webhook_url"


class HostNotFound(Unprocessable):
    code = "webhook_host_not_found"


class AddressNotAllowed(Unprocessable):
    code = "webhook_address_not_allowed"


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart: what a try connects to and what it says it is calling."""

    url: str
    scheme: str
    host: str  # lowercase, IDNA-encoded, without brackets
    port: int
    address: IPAddress | None  # when the URL names an address rather than a host name

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _invalid(why: str) -> InvalidUrl:
    return InvalidUrl(
        f"url: {why}",
        errors=[{"field": "url", "message": why, "type": InvalidUrl.code}],
    )


def parse_url(url: str) -> Target:
    """The URL's parts, or InvalidUrl saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _invalid("only http:// and https:// URLs can receive webhooks")
    if "@" in parts.netloc:
        raise _invalid("credentials in the URL are not supported: verify the signature instead")
    raw_host = parts.hostname
    if not raw_host:
        raise _invalid("the URL names no host")
    if port == 0:
        raise _invalid("port 0 cannot be connected to")
    address = _address(raw_host)
    if address is not None:
        host = str(address)
    else:
        try:
            host = raw_host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise _invalid(f"{raw_host!r} is not a valid host name") from None
        if not _HOST_NAME.fullmatch(host):
            raise _invalid(f"{raw_host!r} is not a valid host name")
    return Target(url, scheme, host, port or (443 if scheme == "https" else 80), address)


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(embedded)
            if inner or address.ipv4_mapped or address in _NAT64:
                return inner
    for kind, hit in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if hit:
            return f"a {kind} address"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class AllowedHosts:
    """WEBHOOK_ALLOWED_HOSTS: host names exempt from the address check, and addresses that
    may be connected to whichever name led there."""

    names: frozenset[str]
    addresses: frozenset[IPAddress]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowedHosts:
        names: set[str] = set()
        addresses: set[IPAddress] = set()
        for entry in entries:
            value = entry.strip().lower().rstrip(".")
            if not value:
                continue
            address = _address(value)
            if address is not None:
                addresses.add(address)
            else:
                names.add(value)
        return cls(frozenset(names), frozenset(addresses))


async def resolve(target: Target) -> list[IPAddress]:
    """Every address the target's host resolves to (in the resolver's order), each once."""
    if target.address is not None:
        return [target.address]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise HostNotFound(
            f"url: the host {target.host} cannot be resolved ({exc or 'timed out'})",
            errors=[
                {
                    "field": "url",
                    "message": "the host cannot be resolved",
                    "type": HostNotFound.code,
                }
            ],
        ) from None
    found: dict[IPAddress, None] = {}
    for family, *_, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    if not found:
        raise HostNotFound(f"url: the host {target.host} has no address")
    return list(found)


def shown(address: IPAddress) -> str:
    """An address as people write it (an IPv4-mapped one with its IPv4 part in dots)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def check_addresses(
    target: Target, addresses: Iterable[IPAddress], allowed: AllowedHosts
) -> list[IPAddress]:
    """The addresses, if the target may be connected to at all of them; else AddressNotAllowed
    naming the first that may not."""
    checked = list(addresses)
    if target.host in allowed.names:
        return checked
    for address in checked:
        why = refusal(address)
        if why and address not in allowed.addresses:
            named = target.host if target.address is None else "the URL"
            raise AddressNotAllowed(
                f"url: {named} points to {shown(address)}, {why}; webhooks only reach public "
                "addresses unless the host is listed in WEBHOOK_ALLOWED_HOSTS",
                errors=[
                    {
                        "field": "url",
                        "message": f"{shown(address)} is {why}",
                        "type": AddressNotAllowed.code,
                    }
                ],
            )
    return checked


async def checked_destination(url: str, allowed: AllowedHosts) -> tuple[Target, list[IPAddress]]:
    """Parse, resolve and check: the addresses a try may connect to, in the resolver's order."""
    target = parse_url(url)
    return target, check_addresses(target, await resolve(target), allowed)
