"""PKCE (RFC 7636), S256 only: `plain` would hand the challenge's secret to anyone who sees it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

METHOD = "S256"
# RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# An S256 challenge is the unpadded base64url of a SHA-256 digest: always 43 characters.
CHALLENGE_PATTERN = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_verifier() -> str:
    return secrets.token_urlsafe(48)  # 64 characters


def is_valid_verifier(verifier: str) -> bool:
    return bool(VERIFIER_PATTERN.fullmatch(verifier))


def is_valid_challenge(challenge: str) -> bool:
    return bool(CHALLENGE_PATTERN.fullmatch(challenge))


def verify(verifier: str, challenge: str) -> bool:
    return is_valid_verifier(verifier) and hmac.compare_digest(s256(verifier), challenge)
