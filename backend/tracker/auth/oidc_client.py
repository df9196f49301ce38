"""Talking to an external OpenID Connect provider: discovery, code exchange, ID token checks."""

from __future__ import annotations

import asyncio
import base64
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt

from tracker.config import Settings

TIMEOUT = httpx.Timeout(10.0)
DISCOVERY_TTL_SECONDS = 3600
# Only asymmetric signatures: an HS* ID token would be "signed" with our own client secret,
# and `none` is no signature at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
CLOCK_SKEW_SECONDS = 60


class OidcError(Exception):
    """The provider could not be reached, or what it said cannot be trusted."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


_discovered: dict[str, tuple[float, ProviderMetadata]] = {}
_jwk_clients: dict[str, jwt.PyJWKClient] = {}


def callback_url(settings: Settings) -> str:
    """Where the provider sends the browser back: the API's callback, through the web origin."""
    return f"{settings.web_origin.rstrip('/')}/api/oauth/oidc/callback"


def _same_issuer(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


async def discover(issuer: str) -> ProviderMetadata:
    cached = _discovered.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.get(url)
            response.raise_for_status()
            doc: dict[str, Any] = response.json()
        meta = ProviderMetadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            algorithms=tuple(
                a
                for a in doc.get("id_token_signing_alg_values_supported", ["RS256"])
                if a in ASYMMETRIC_ALGORITHMS
            )
            or ("RS256",),
            token_auth_methods=tuple(
                doc.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
            ),
        )
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise OidcError(f"The sign-in provider's discovery document is unavailable: {exc}") from exc
    # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if not _same_issuer(meta.issuer, issuer):
        raise OidcError(f"The provider says it is {meta.issuer!r}, not {issuer!r}")
    _discovered[issuer] = (time.monotonic() + DISCOVERY_TTL_SECONDS, meta)
    return meta


def authorization_url(
    meta: ProviderMetadata,
    settings: Settings,
    *,
    state: str,
    nonce: str,
    code_challenge: str,
) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.oidc_client_id or "",
        "redirect_uri": callback_url(settings),
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    sep = "&" if "?" in meta.authorization_endpoint else "?"
    return f"{meta.authorization_endpoint}{sep}{urlencode(params)}"


async def exchange_code(
    meta: ProviderMetadata, settings: Settings, *, code: str, code_verifier: str
) -> str:
    """Redeem the provider's code; returns the raw ID token."""
    client_id = settings.oidc_client_id or ""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": callback_url(settings),
        "code_verifier": code_verifier,
        "client_id": client_id,
    }
    headers = {"Accept": "application/json"}
    secret = settings.oidc_client_secret
    if secret and "client_secret_basic" not in meta.token_auth_methods:
        data["client_secret"] = secret
    elif secret:
        # RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.post(meta.token_endpoint, data=data, headers=headers)
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"The sign-in provider's token endpoint failed: {exc}") from exc
    if response.status_code != 200 or "id_token" not in body:
        reason = body.get("error_description") or body.get("error") or response.status_code
        raise OidcError(f"The sign-in provider refused the code: {reason}")
    return str(body["id_token"])


def _jwk_client(jwks_uri: str) -> jwt.PyJWKClient:
    client = _jwk_clients.get(jwks_uri)
    if client is None:
        client = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=3600, timeout=10)
        _jwk_clients[jwks_uri] = client
    return client


def _signing_key(client: jwt.PyJWKClient, id_token: str) -> jwt.PyJWK:
    kid = jwt.get_unverified_header(id_token).get("kid")
    if kid:
        return client.get_signing_key(kid)
    # OpenID Connect Core §10.1: `kid` may be left out when the set holds a single key.
    keys = client.get_signing_keys()
    if len(keys) != 1:
        raise jwt.InvalidTokenError("The ID token names no key and the provider has several")
    return keys[0]


async def verify_id_token(
    meta: ProviderMetadata, settings: Settings, *, id_token: str, nonce: str
) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7: signature by the provider's JWKS, iss, aud, exp, nonce."""
    try:
        # PyJWKClient fetches (and caches) the key set with blocking I/O: keep it off the loop.
        key = await asyncio.to_thread(_signing_key, _jwk_client(meta.jwks_uri), id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=list(meta.algorithms),
            audience=settings.oidc_client_id,
            issuer=meta.issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise OidcError(f"The ID token is not valid: {exc}") from exc
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OidcError("The ID token was not issued for this sign-in (nonce mismatch)")
    return claims
