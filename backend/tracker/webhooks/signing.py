"""Signing deliveries: `X-Tracker-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC's key is the endpoint's secret (its UTF-8 bytes, prefix included) and its message is
`<t>.<body>`: the timestamp, a dot and the exact bytes of the body. Signing the time with the
body lets a receiver refuse an old delivery replayed at it (docs/webhooks.md has a verifier).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks secrets, not one)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
