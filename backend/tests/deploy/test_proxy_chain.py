"""The proxy chain as deployed (deploy/compose.yaml, deploy/Caddyfile): who trusts whose
X-Forwarded-For, which security headers Caddy adds, and that every layer holds request bodies
to the same limits. The web server and the API behave as these settings say in
tests/e2e/test_proxy_chain.py, test_security_headers.py and test_body_limits.py."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.test_compose import (
    COMPOSE,
    DEPLOY,
    ENV_EXAMPLE,
    SECRETS,
    docker_compose,
    env_file,
)
from tracker.config import Settings

CADDYFILE = DEPLOY / "Caddyfile"
BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """compose.yaml as docker-compose reads it with .env.example: every variable filled in."""
    own = set(env_file(ENV_EXAMPLE)) | SECRETS
    result = subprocess.run(
        [docker_compose(), "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={k: v for k, v in os.environ.items() if k not in own},
    )
    data: dict[str, Any] = yaml.safe_load(result.stdout)
    return data


@pytest.fixture(scope="module")
def caddyfile() -> str:
    """The Caddyfile's directives, comment lines left out."""
    lines = CADDYFILE.read_text().splitlines()
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))


def env_of(resolved: dict[str, Any], service: str) -> dict[str, str]:
    env = resolved["services"][service]["environment"]
    return {k: str(v) for k, v in env.items() if v is not None}


def block(text: str, opener: str) -> str:
    """The body of the first `opener { … }` block (nested braces included)."""
    start = re.search(rf"^\s*{re.escape(opener)}\s*\{{\s*$", text, re.MULTILINE)
    assert start, f"no `{opener} {{` block"
    depth, i = 1, start.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start.end() : i - 1]


def header_values(header_block: str) -> dict[str, str]:
    """`[?]Name value` lines of a Caddyfile `header` block, with `?` kept on the name."""
    values = {}
    for line in header_block.splitlines():
        match = re.match(r'\s*(\??[A-Za-z-]+)\s+"?([^"]*)"?\s*$', line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def size(value: str) -> int:
    """`1MiB`, `210M`, `512K` or bytes, in bytes (binary units, as the web server reads them)."""
    match = re.fullmatch(r"(\d+)\s*(?:([KMG])(?:i?B)?)?", value.strip(), re.IGNORECASE)
    assert match, f"not a size: {value}"
    unit = (match.group(2) or "").upper()
    return int(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def test_the_api_trusts_forwarded_addresses_only_from_the_internal_network(
    resolved: dict[str, Any],
) -> None:
    [subnet] = [c["subnet"] for c in resolved["networks"]["backend"]["ipam"]["config"]]
    network = ipaddress.ip_network(subnet)
    assert network.is_private
    for service in ("api", "worker", "migrate"):
        trusted = env_of(resolved, service)["FORWARDED_ALLOW_IPS"]
        assert trusted == subnet, f"{service} must trust the backend network, not {trusted!r}"
    # Everything that forwards to the API sits on that network.
    for service in ("proxy", "web"):
        assert "backend" in resolved["services"][service]["networks"]


def test_the_web_server_takes_the_browser_address_that_the_proxy_sets(
    resolved: dict[str, Any], caddyfile: str
) -> None:
    web = env_of(resolved, "web")
    assert web["ADDRESS_HEADER"] == "x-forwarded-for"
    # One hop in front: Caddy, which does not pass a client's own X-Forwarded-For on (it trusts
    # no proxy before it) but replaces it with the address it sees.
    assert web["XFF_DEPTH"] == "1"
    assert "trusted_proxies" not in caddyfile


def test_caddy_adds_the_baseline_headers_without_replacing_the_upstreams(caddyfile: str) -> None:
    site = block(caddyfile, "{$SITE_ADDRESS}")
    headers = header_values(block(site, "header"))
    for name, value in BASELINE.items():
        assert headers.get(f"?{name}") == value, f"{name} must be a default (`?{name}`)"
    permissions = headers.get("?Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions

    # HSTS only where Caddy itself serves https, and never in place of one set upstream.
    assert re.search(r"^\s*@https protocol https\s*$", site, re.MULTILINE)
    hsts = re.search(r"^\s*header @https \?Strict-Transport-Security \"([^\"]+)\"", site, re.M)
    assert hsts and int(re.findall(r"max-age=(\d+)", hsts.group(1))[0]) >= 180 * 24 * 3600

    # Each page's Content-Security-Policy comes from the web server (a nonce per page), the
    # attachments' from the API: Caddy must not set one.
    assert "Content-Security-Policy" not in caddyfile

    # Caddy's own error responses carry the same headers.
    errors = block(site, "handle_errors")
    error_headers = header_values(block(errors, "header"))
    for name, value in BASELINE.items():
        assert error_headers.get(name) == value
    assert error_headers.get("Permissions-Policy") == permissions
    assert re.search(r"^\s*header @https Strict-Transport-Security", errors, re.MULTILINE)


def test_every_layer_holds_bodies_to_the_same_limits(
    resolved: dict[str, Any], caddyfile: str
) -> None:
    proxy, web = env_of(resolved, "proxy"), env_of(resolved, "web")
    json_limit, upload_limit = proxy["JSON_BODY_LIMIT"], proxy["UPLOAD_BODY_LIMIT"]
    assert web["API_JSON_BODY_LIMIT"] == json_limit
    assert web["API_UPLOAD_BODY_LIMIT"] == upload_limit
    assert web["BODY_SIZE_LIMIT"] == upload_limit
    assert size(json_limit) == 1024 * 1024

    # The largest legitimate upload fits: every file of an issue at the largest size at once.
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert size(upload_limit) >= defaults.max_attachments_per_issue * defaults.max_upload_bytes

    site = block(caddyfile, "{$SITE_ADDRESS}")
    assert re.search(
        r"^\s*@not_multipart not header Content-Type multipart/form-data\*\s*$", site, re.M
    )
    small = block(site, "request_body @not_multipart")
    assert re.search(r"max_size \{\$JSON_BODY_LIMIT:1MiB\}", small)
    every = block(site, "request_body")
    assert re.search(r"max_size \{\$UPLOAD_BODY_LIMIT:210MiB\}", every)


def test_caddy_refuses_an_oversized_body_with_problem_json(caddyfile: str) -> None:
    errors = block(block(caddyfile, "{$SITE_ADDRESS}"), "handle_errors")
    assert re.search(r"@too_large expression \{err\.status_code\} == 413", errors)
    answer = block(errors, "handle @too_large")
    assert re.search(r"header Content-Type application/problem\+json", answer)
    body = re.search(r"respond `([^`]+)` 413", answer)
    assert body
    problem = json.loads(body.group(1))
    assert problem["status"] == 413 and problem["code"] == "payload_too_large"
