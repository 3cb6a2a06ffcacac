"""Requests, answers and errors as the Hub's HTTP API shapes them, and parsing helpers. TEST ONLY.

Mirrors the parts every endpoint shares: JSON bodies, query flags (``?expand=true``), ``{rev}/{path}``
URL segments (a quoted revision is one segment, ``refs/pr/1`` three), and error answers carrying the
Hub's ``X-Error-Code`` / ``X-Error-Message`` headers, which huggingface_hub maps to its exception types
(``huggingface_hub.utils.hf_raise_for_status``, https://huggingface.co/docs/huggingface_hub/package_reference/utilities#huggingface_hub.utils.hf_raise_for_status).
``_parse_ndjson`` reads the body of ``POST /api/{type}s/{repo}/commit/{rev}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import unquote


class HubError(Exception):
    """An error answer, with the Hub's headers so the client maps it to the right exception."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}

    def response(self) -> Response:
        headers = {"X-Error-Message": self.message.replace("\n", " "), **self.headers}
        if self.code:
            headers["X-Error-Code"] = self.code
        return Response(self.status, {"error": self.message}, headers)


@dataclass
class Response:
    status: int
    body: bytes | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    base_url: str
    user: str | None

    def flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError as error:
            raise HubError(400, f"Malformed JSON body: {error}") from error


def _split_revision(raw: str) -> tuple[str, str]:
    """Split ``{rev}/{path}`` of a raw URL path; a quoted rev is one segment, ``refs/x/y`` is three."""
    segments = raw.split("/")
    count = 3 if segments[0] == "refs" and len(segments) >= 3 else 1
    return unquote("/".join(segments[:count])), unquote("/".join(segments[count:]))


def _is_valid_repo_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(part not in ("", ".", "..", ".git") for part in parts)


def _parse_ndjson(body: bytes) -> list[dict]:
    lines = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise HubError(400, f"commit line {number}: not JSON ({error})") from error
            if not isinstance(value, dict):
                raise HubError(400, f"commit line {number}: expected an object")
            lines.append(value)
    return lines
