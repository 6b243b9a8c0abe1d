"""/api/v1/fields: the custom fields a desk asks (tessera/customfields), so an integration knows
which keys `fields` takes on tickets, users and organisations, of which type, and which labels a
choice accepts.

Read with `tickets:read` or `users:read`. A system key sees what the requester fills in or sees
(agent-only fields are left out, as they are from its ticket reads); an agent key sees every field.
"""

from __future__ import annotations

from typing import Literal

from ninja import Router, Schema
from pydantic import Field

from django.http import HttpRequest
from django.utils.translation import gettext as _

from tessera.api.models import ApiKey, Scope
from tessera.api.problems import COMMON, ApiProblem
from tessera.customfields import json_values
from tessera.customfields.models import Audience, FieldType, Target

router = Router(tags=["custom fields"])


class FieldOut(Schema):
    key: str = Field(description="What `fields` names the answer by; never changes.")
    label: str
    type: FieldType
    target: Target = Field(description="What the field is asked about.")
    required: bool
    audience: Audience = Field(description="Who fills it in.")
    help_text: str
    retired: bool = Field(description="No longer asked or changed; old answers stay readable.")
    choices: list[str] = Field(description="The labels a choice, multiple-choice or list field accepts now.")
    form: str
    topic_ids: list[int] = Field(description="The help topics that ask it (ticket fields).")
    for_all_tickets: bool


class FieldList(Schema):
    items: list[FieldOut]


@router.get(
    "/fields",
    response={200: FieldList, **COMMON},
    url_name="fields",
    summary="List custom fields",
    description="Every field of an active form; `target` narrows to ticket, user or organization fields.",
)
def list_fields(request: HttpRequest, target: Literal["ticket", "user", "organization"] | None = None) -> FieldList:
    key: ApiKey = request.api_key  # type: ignore[attr-defined]  # set by KeyAuth
    if not (key.has_scope(Scope.TICKETS_READ) or key.has_scope(Scope.USERS_READ)):
        raise ApiProblem("scope", _("This key lacks the “%(scope)s” scope.") % {"scope": "tickets:read or users:read"})
    found = json_values.definitions(target, end_user=key.agent_id is None)
    return FieldList(items=[FieldOut(**vars(d)) for d in found])
