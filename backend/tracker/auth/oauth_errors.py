"""Errors of the OAuth token endpoint, which speak RFC 6749 §5.2 rather than problem+json.

OAuth clients (libraries, scripts, our own web server) parse `{"error": ..., "error_description":
...}` from the token endpoint; see docs/adr/0002-oauth-errors.md.
"""

from __future__ import annotations

from typing import Literal

OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
]


class OAuthError(Exception):
    def __init__(self, error: OAuthErrorCode, description: str) -> None:
        super().__init__(description)
        self.error: OAuthErrorCode = error
        self.description = description

    @property
    def status(self) -> int:
        # RFC 6749 §5.2: 400, except a failed client authentication, which is 401.
        return 401 if self.error == "invalid_client" else 400
