"""What the directory endpoints take and give: people, organisations and the desk's set-up.

Ids are bounded to what a database key can hold and text refuses NUL characters, so nonsense is
a 422 naming the field, never a database error. In a PATCH body an absent field is left as it is
and `null` clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from tessera.api.ticket_schemas import Answers
from tessera.db_keys import MAX_ID


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=1000), AfterValidator(_no_nul)]
Count = Annotated[int, Field(ge=0, le=32767)]
BigCount = Annotated[int, Field(ge=0, le=2**31 - 1)]


# ---------------------------------------------------------------------------- people


class UserOut(Schema):
    id: int
    email: str
    name: str
    organisation: int | None
    organization_manager: bool = Field(
        description="Sees every ticket of the organisation on the Help Center (its customer-side manager)."
    )
    phone: str
    time_zone: str
    is_active: bool
    is_agent: bool
    joined_at: datetime
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Answers to custom fields by key, typed as on tickets (GET /fields)."
    )


class UserIn(Schema):
    email: Text
    name: Text = ""
    organisation: Id | None = None
    organization_manager: bool = Field(
        False,
        description="Only a member of an organisation (named, or claiming the address's domain) can be its manager.",
    )
    phone: Text = Field("", description="Digits, spaces, + ( ) . - and an optional extension (X123).")
    time_zone: Text = ""


class UserPatch(Schema):
    email: Text | None = None
    name: Text | None = None
    organisation: Id | None = None
    organization_manager: bool | None = Field(
        None, description="Only a member of an organisation can be its manager; leaving it clears this."
    )
    phone: Text | None = None
    time_zone: Text | None = None
    fields: Answers | None = Field(
        None,
        description="Answers to custom fields by key (null clears one); agent keys only. Only the keys named change.",
    )


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class OrganisationOut(Schema):
    id: int
    name: str
    domain: str = Field(description="The first of `domains` (empty without any); kept for older clients.")
    domains: list[str] = Field(description="Email domains whose new users join the organisation.")
    account_manager: int | None = Field(description="The agent id of the account manager (information only).")
    share_tickets: bool = Field(description="Members see and answer each other's tickets on the Help Center.")
    created_at: datetime
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Answers to custom fields by key, typed as on tickets (GET /fields)."
    )


class OrganisationIn(Schema):
    name: Text
    domain: Text | None = Field(None, description="One email domain; `domains` sets several.")
    domains: list[Text] | None = None
    account_manager: Id | None = None
    share_tickets: bool = False


class OrganisationPatch(Schema):
    name: Text | None = None
    domain: Text | None = Field(None, description="Replaces the email domains with this one (empty: none).")
    domains: list[Text] | None = None
    account_manager: Id | None = None
    share_tickets: bool | None = None
    fields: Answers | None = Field(
        None,
        description="Answers to custom fields by key (null clears one); agent keys only. Only the keys named change.",
    )


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None


class MembershipOut(Schema):
    department: int
    role: str
    is_primary: bool


class AgentOut(Schema):
    id: int
    user: int
    email: str
    name: str
    is_active: bool
    is_available: bool
    departments: list[MembershipOut]
    teams: list[int]


class AgentPage(Schema):
    items: list[AgentOut]
    next_cursor: str | None


# ---------------------------------------------------------------------------- departments and teams


class DepartmentOut(Schema):
    id: int
    name: str
    parent: int | None
    manager: int | None
    email: str
    is_public: bool
    unknown_senders: str
    assign_members_only: bool
    sla_plan: int | None
    assignment_mode: str
    open_ticket_limit: int | None
    auto_close_days: int | None


class DepartmentPatch(Schema):
    name: Text | None = None
    parent: Id | None = None
    manager: Id | None = None
    email: Text | None = None
    is_public: bool | None = None
    unknown_senders: Text | None = None
    assign_members_only: bool | None = None
    sla_plan: Id | None = None
    assignment_mode: Text | None = None
    open_ticket_limit: BigCount | None = None
    auto_close_days: Count | None = None


class DepartmentIn(DepartmentPatch):
    name: Text


class DepartmentPage(Schema):
    items: list[DepartmentOut]
    next_cursor: str | None


class TeamOut(Schema):
    id: int
    name: str
    lead: int | None
    members: list[int]
    is_active: bool
    assignment_mode: str


class TeamPatch(Schema):
    name: Text | None = None
    lead: Id | None = None
    members: list[Id] | None = Field(None, max_length=10000)
    is_active: bool | None = None
    assignment_mode: Text | None = None


class TeamIn(TeamPatch):
    name: Text


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


# ---------------------------------------------------------------------------- what tickets are filed under


class TopicOut(Schema):
    id: int
    name: str
    department: int
    default_priority: int | None
    is_public: bool
    is_active: bool
    sla_plan: int | None


class TopicPatch(Schema):
    name: Text | None = None
    department: Id | None = None
    default_priority: Id | None = None
    is_public: bool | None = None
    is_active: bool | None = None
    sla_plan: Id | None = None


class TopicIn(TopicPatch):
    name: Text
    department: Id


class TopicPage(Schema):
    items: list[TopicOut]
    next_cursor: str | None


class PriorityOut(Schema):
    id: int
    name: str
    urgency: int
    colour: str
    is_default: bool


class PriorityPatch(Schema):
    name: Text | None = None
    urgency: Count | None = None
    colour: Text | None = None
    is_default: bool | None = None


class PriorityIn(PriorityPatch):
    name: Text
    urgency: Count


class PriorityPage(Schema):
    items: list[PriorityOut]
    next_cursor: str | None


class StatusOut(Schema):
    id: int
    name: str
    state: str
    order: int
    is_default: bool


class StatusPatch(Schema):
    name: Text | None = None
    state: Literal["open", "pending", "resolved", "closed"] | None = None
    order: Count | None = None
    is_default: bool | None = None


class StatusIn(StatusPatch):
    name: Text
    state: Literal["open", "pending", "resolved", "closed"]


class StatusPage(Schema):
    items: list[StatusOut]
    next_cursor: str | None


# ---------------------------------------------------------------------------- service levels and routing


class ScheduleOut(Schema):
    id: int
    name: str
    time_zone: str


class SlaTargetOut(Schema):
    priority: int
    first_response_minutes: int | None
    resolution_minutes: int | None


class SlaPlanOut(Schema):
    id: int
    name: str
    schedule: ScheduleOut
    first_response_minutes: int | None
    resolution_minutes: int | None
    warn_percent: int
    is_active: bool
    is_default: bool
    targets: list[SlaTargetOut]


class SlaPlanPage(Schema):
    items: list[SlaPlanOut]
    next_cursor: str | None


class ConditionOut(Schema):
    field: str
    operator: str
    value: str


class RuleActionOut(Schema):
    kind: str
    target: int | None
    text: str


class RuleOut(Schema):
    id: int
    name: str
    order: int
    is_active: bool
    match: str
    stop_processing: bool
    conditions: list[ConditionOut]
    actions: list[RuleActionOut]
    match_count: int
    last_matched_at: datetime | None


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None
