"""How the API names a person inside another resource (an issue's reporter, a comment's author)."""

from __future__ import annotations

from pydantic import BaseModel


class UserRef(BaseModel):
    id: int
    full_name: str
