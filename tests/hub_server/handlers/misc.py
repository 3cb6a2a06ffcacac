"""Other endpoints: card metadata validation and whoami. TEST ONLY.

Mirrors:
  POST   /api/validate-yaml                        a small part of the Hub's card metadata checks:
                                                   YAML that parses to a mapping, well-formed ``configs``
  GET    /api/whoami-v2                            the token's user
Documented at https://huggingface.co/docs/hub/api (``/api/whoami-v2``); validate-yaml is what
huggingface_hub's ``RepoCard.validate`` calls. The README front-matter helpers here also feed
``cardData`` in repo info (https://huggingface.co/docs/hub/datasets-cards).
"""

from __future__ import annotations

import re

import yaml

from ..core import HubCore
from ..protocol import HubError, Request, Response


class MiscEndpoints(HubCore):
    """Validate card metadata and say who a token belongs to."""

    def handle_validate_yaml(self, request: Request) -> Response:
        content = request.json().get("content")
        if not isinstance(content, str):
            raise HubError(400, "validate-yaml: 'content' must be a string")
        errors = _yaml_errors(content)
        return Response(400 if errors else 200, {"errors": [{"message": e} for e in errors], "warnings": []})

    def handle_whoami(self, request: Request) -> Response:
        if request.user is None:
            raise HubError(401, "You must be authenticated")
        access = {"displayName": "test token", "role": "write"}
        return Response(
            200,
            {
                "type": "user",
                "name": request.user,
                "fullname": request.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": access},
            },
        )


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _card_data(readme: bytes) -> dict | None:
    match = FRONT_MATTER.match(readme.decode(errors="replace"))
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _yaml_errors(content: str) -> list[str]:
    """A small part of the Hub's card validation: YAML that parses to a mapping, and well-formed ``configs``."""
    match = FRONT_MATTER.match(content)
    if match is None:
        return []
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        return [f"Invalid YAML in README.md metadata: {error}"]
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["README.md metadata must be a YAML mapping"]
    configs = data.get("configs", [])
    if not isinstance(configs, list):
        return ["'configs' must be a list"]
    errors, seen = [], set()
    for index, config in enumerate(configs):
        name = config.get("config_name") if isinstance(config, dict) else None
        if not isinstance(name, str) or not name:
            errors.append(f"configs[{index}]: 'config_name' must be a non-empty string")
        elif name in seen:
            errors.append(f"configs[{index}]: duplicate config_name {name!r}")
        seen.add(name)
    return errors
