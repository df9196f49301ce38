from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tracker.auth import handles
from tracker.auth.passwords import MAX_LENGTH, MIN_LENGTH
from tracker.inputs import NUL_FREE


class SignupRequest(BaseModel):
    # Unknown fields ("role", "is_active") are dropped, never applied: sign-up makes a REPORTER.
    model_config = ConfigDict(extra="ignore")

    email: EmailStr = Field(
        description="An address that can receive mail: not at a special-use name like .test"
    )
    # The policy's own bounds are what the schema states; the policy refuses the rest with its
    # reason (weak_password) rather than as a plain validation error.
    password: str = Field(
        min_length=1,
        max_length=1024,
        description="At least 4 different characters, and not the e-mail address",
        json_schema_extra={"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH},
    )
    full_name: str = Field(default="", max_length=200, pattern=NUL_FREE)
    username: str | None = Field(
        default=None,
        min_length=handles.MIN_LENGTH,
        max_length=handles.MAX_LENGTH,
        pattern=handles.PATTERN,
        description="The @handle to be mentioned by; made from the e-mail address when absent",
    )


class AuthorizeRequest(BaseModel):
    """The first-party login step: credentials plus the client's authorization request."""

    email: str = Field(min_length=1, max_length=320, pattern=NUL_FREE)
    password: str = Field(min_length=1, max_length=1024)
    client_id: str = Field(max_length=64, pattern=NUL_FREE, description="`web`")
    redirect_uri: str = Field(
        max_length=2000, pattern=NUL_FREE, description="The client's registered redirect URI"
    )
    code_challenge: str = Field(
        max_length=128,
        pattern=NUL_FREE,
        description="The unpadded base64url SHA-256 of the code verifier (43 characters)",
    )
    code_challenge_method: str = Field(max_length=16, pattern=NUL_FREE, description="`S256`")
    state: str = Field(default="", max_length=500, pattern=NUL_FREE)


class AuthorizeResponse(BaseModel):
    code: str
    state: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int
    refresh_token: str


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error response."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
    ]
    error_description: str


class Provider(BaseModel):
    id: str
    name: str
