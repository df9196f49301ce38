from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class SignupRequest(BaseModel):
    # Unknown fields ("role", "is_active") are dropped, never applied: sign-up makes a REPORTER.
    model_config = ConfigDict(extra="ignore")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    full_name: str = Field(default="", max_length=200)


class AuthorizeRequest(BaseModel):
    """The first-party login step: credentials plus the client's authorization request."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    client_id: str = Field(max_length=64)
    redirect_uri: str = Field(max_length=2000)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=16)
    state: str = Field(default="", max_length=500)


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
