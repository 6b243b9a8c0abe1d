"""The directory under /api/v1/: people, organisations and the desk's set-up.

Mostly reads. Scopes say what a key may ask for at all (users:read / users:write for people and
organisations; tickets:read or users:read for the set-up; admin to change the set-up); a key that
acts as an agent is further held to what that agent may do (`tickets.policy`): any agent reads
the directory and adds or corrects end users, only administrators change organisations and the
set-up. Writes go through `accounts.directory_services` and `tickets.services`, which validate
as the admin does and audit every change. Lists page by id (`cursor`, `limit`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ninja import Router, Status

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from tessera.accounts import directory_services as directory
from tessera.accounts.models import Agent, Department, Organization, Team, User
from tessera.api.auth import require_agent, require_scope
from tessera.api.directory_schemas import (
    AgentOut,
    AgentPage,
    ConditionOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPage,
    DepartmentPatch,
    MembershipOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
    PriorityIn,
    PriorityOut,
    PriorityPage,
    PriorityPatch,
    RuleActionOut,
    RuleOut,
    RulePage,
    ScheduleOut,
    SlaPlanOut,
    SlaPlanPage,
    SlaTargetOut,
    StatusIn,
    StatusOut,
    StatusPage,
    StatusPatch,
    TeamIn,
    TeamOut,
    TeamPage,
    TeamPatch,
    Text,
    TopicIn,
    TopicOut,
    TopicPage,
    TopicPatch,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)
from tessera.api.models import ApiKey, Scope
from tessera.api.problems import COMMON, ApiProblem
from tessera.customfields import json_values
from tessera.customfields import services as field_services
from tessera.db_keys import MAX_ID, is_key
from tessera.rules.models import TARGET_FIELDS, ActionKind, Rule
from tessera.rules.models import Action as RuleAction
from tessera.sla.models import SlaPlan
from tessera.tickets import policy, services
from tessera.tickets.models import HelpTopic, Priority
from tessera.tickets.models import Status as TicketStatus

router = Router(tags=["directory"])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# ---------------------------------------------------------------------------- who may ask


def _key(request: HttpRequest) -> ApiKey:
    key: ApiKey = request.api_key  # type: ignore[attr-defined]
    return key


def _reader(request: HttpRequest, *scopes: str) -> User | None:
    """The actor of a read: the key holds one of `scopes`, and an agent key's agent may read the directory."""
    key = _key(request)
    if not any(key.has_scope(scope) for scope in scopes):
        raise ApiProblem("scope", _("This key lacks the “%(scope)s” scope.") % {"scope": " or ".join(scopes)})
    actor: User | None = request.actor  # type: ignore[attr-defined]
    if actor is not None and not policy.can_read_directory(actor):
        raise ApiProblem("forbidden", _("The agent this key acts for may not read the directory."))
    return actor


def _writer(request: HttpRequest, scope: str) -> User | None:
    """The actor of a change: the key holds `scope`; the service asks the policy about the actor."""
    require_scope(request, scope)
    actor: User | None = request.actor  # type: ignore[attr-defined]
    return actor


def _setup_reader(request: HttpRequest) -> User | None:
    return _reader(request, Scope.TICKETS_READ, Scope.USERS_READ)


# ---------------------------------------------------------------------------- paging and lookups


def _cursor_of(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        pk = int(text.removeprefix("id:")) if text.startswith("id:") else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pk = -1
    if not 0 <= pk <= MAX_ID:
        raise ApiProblem(
            "validation", _("This cursor is not one a list gave."), errors=[("cursor", _("Not a cursor."))]
        )
    return pk


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiProblem(
            "validation",
            _("Ask for between 1 and %(max)d items.") % {"max": MAX_LIMIT},
            errors=[("limit", _("Between 1 and %(max)d.") % {"max": MAX_LIMIT})],
        )
    return limit


def _page[M: models.Model](qs: models.QuerySet[M], cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    """One page in id order after the cursor, and the cursor of the next page (None: last page)."""
    limit = _limit(limit)
    rows = list(qs.filter(pk__gt=_after(cursor)).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor_of(rows[-1].pk) if more and rows else None)


def _one[M: models.Model](qs: models.QuerySet[M], pk: int) -> M:
    if not is_key(pk):
        raise Http404
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _values(payload: Any, renames: dict[str, str] | None = None, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    data.pop("fields", None)  # answers to custom fields: `_save_fields`
    renames = renames or {}
    return {renames.get(name, name): value for name, value in data.items()}


# ---------------------------------------------------------------------------- custom fields


def _save_fields(request: HttpRequest, owner: User | Organization, values: dict[str, Any] | None) -> None:
    """Change a person's or an organisation's answers (an agent key: the audit log names its
    agent). Errors name `fields.<key>`."""
    if values is None:
        return
    actor = require_agent(request)
    try:
        cleaned = json_values.cleaned_for_edit(owner, values)
        field_services.save_values(actor, owner, cleaned)
    except ValidationError as exc:
        errors = [
            (f"fields.{name.removeprefix(field_services.PREFIX)}", str(message))
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
        detail = errors[0][1] if len(errors) == 1 else _("The request has %(count)d problems.") % {"count": len(errors)}
        raise ApiProblem("validation", detail, errors=errors) from None


# ---------------------------------------------------------------------------- users

USER_RENAMES = {"organisation": "organization"}


def _user_out(user: User, fields: dict[str, Any] | None = None) -> UserOut:
    if fields is None:
        fields = json_values.values_for(user)
    return UserOut(
        fields=fields,
        id=user.pk,
        email=user.email,
        name=user.name,
        organisation=user.organization_id,
        organization_manager=user.organization_manager,
        phone=user.phone,
        time_zone=user.time_zone,
        is_active=user.is_active,
        is_agent=user.is_agent,
        joined_at=user.date_joined,
    )


def _users() -> models.QuerySet[User]:
    return User.objects.select_related("agent")


@router.get("/users", response={200: UserPage, **COMMON}, url_name="users", summary="List users")
def list_users(
    request: HttpRequest,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    email: Text | None = None,
    organisation: int | None = None,
) -> UserPage:
    """People who have opened, follow or work tickets; `email` finds one by address."""
    _reader(request, Scope.USERS_READ)
    qs = _users()
    if email:
        qs = qs.filter(email=email.strip().lower())
    if organisation is not None:
        qs = qs.filter(organization_id=organisation) if is_key(organisation) else qs.none()
    rows, following = _page(qs, cursor, limit)
    answers = json_values.values_of(rows)
    return UserPage(items=[_user_out(u, answers[u.pk]) for u in rows], next_cursor=following)


@router.post("/users", response={201: UserOut, **COMMON}, url_name="users", summary="Create an end user")
def create_user(request: HttpRequest, payload: UserIn) -> Status[UserOut]:
    actor = _writer(request, Scope.USERS_WRITE)
    user = directory.create_end_user(actor, _values(payload, USER_RENAMES, partial=False))
    return Status(201, _user_out(user, {}))


@router.get("/users/{user_id}", response={200: UserOut, **COMMON}, url_name="user", summary="Read a user")
def read_user(request: HttpRequest, user_id: int) -> UserOut:
    _reader(request, Scope.USERS_READ)
    return _user_out(_one(_users(), user_id))


@router.patch("/users/{user_id}", response={200: UserOut, **COMMON}, url_name="user", summary="Change an end user")
def update_user(request: HttpRequest, user_id: int, payload: UserPatch) -> UserOut:
    actor = _writer(request, Scope.USERS_WRITE)
    user = _one(_users(), user_id)
    values = _values(payload, USER_RENAMES, partial=True)
    with transaction.atomic():
        # Answers alone ask only the fields' own rule (policy.can_edit_person_fields).
        changed = directory.update_end_user(actor, user, values) if values or payload.fields is None else user
        _save_fields(request, changed, payload.fields)
    return _user_out(changed)


# ---------------------------------------------------------------------------- organisations


def _organisations() -> models.QuerySet[Organization]:
    return Organization.objects.prefetch_related("domains")


def _organisation_out(org: Organization, fields: dict[str, Any] | None = None) -> OrganisationOut:
    if fields is None:
        fields = json_values.values_for(org)
    domains = sorted(d.domain for d in org.domains.all())
    return OrganisationOut(
        id=org.pk,
        name=org.name,
        domain=domains[0] if domains else "",
        domains=domains,
        account_manager=org.account_manager_id,
        share_tickets=org.share_tickets,
        created_at=org.created_at,
        fields=fields,
    )


@router.get(
    "/organisations", response={200: OrganisationPage, **COMMON}, url_name="organisations", summary="List organisations"
)
def list_organisations(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> OrganisationPage:
    _reader(request, Scope.USERS_READ)
    rows, following = _page(_organisations(), cursor, limit)
    answers = json_values.values_of(rows)
    return OrganisationPage(items=[_organisation_out(o, answers[o.pk]) for o in rows], next_cursor=following)


@router.post(
    "/organisations", response={201: OrganisationOut, **COMMON}, url_name="organisations", summary="Create one"
)
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Status[OrganisationOut]:
    actor = _writer(request, Scope.USERS_WRITE)
    values = {k: v for k, v in _values(payload, partial=False).items() if v is not None}
    org = directory.create_organization(actor, values)
    return Status(201, _organisation_out(_one(_organisations(), org.pk), {}))


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **COMMON},
    url_name="organisation",
    summary="Read an organisation",
)
def read_organisation(request: HttpRequest, organisation_id: int) -> OrganisationOut:
    _reader(request, Scope.USERS_READ)
    return _organisation_out(_one(_organisations(), organisation_id))


@router.patch(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **COMMON},
    url_name="organisation",
    summary="Change an organisation",
)
def update_organisation(request: HttpRequest, organisation_id: int, payload: OrganisationPatch) -> OrganisationOut:
    actor = _writer(request, Scope.USERS_WRITE)
    org = _one(_organisations(), organisation_id)
    values = _values(payload, partial=True)
    with transaction.atomic():
        # Answers alone ask only the fields' own rule: any agent, where renaming needs an administrator.
        changed = directory.update_organization(actor, org, values) if values or payload.fields is None else org
        _save_fields(request, changed, payload.fields)
    return _organisation_out(_one(_organisations(), organisation_id))


# ---------------------------------------------------------------------------- agents


def _agents() -> models.QuerySet[Agent]:
    return Agent.objects.select_related("user").prefetch_related("memberships__role", "teams")


def _agent_out(agent: Agent) -> AgentOut:
    return AgentOut(
        id=agent.pk,
        user=agent.user_id,
        email=agent.user.email,
        name=agent.name,
        is_active=agent.is_active and agent.user.is_active,
        is_available=agent.is_available,
        departments=[
            MembershipOut(department=m.department_id, role=m.role.name, is_primary=m.is_primary)
            for m in agent.memberships.all()
        ],
        teams=sorted(t.pk for t in agent.teams.all()),
    )


@router.get("/agents", response={200: AgentPage, **COMMON}, url_name="agents", summary="List agents")
def list_agents(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> AgentPage:
    _setup_reader(request)
    rows, following = _page(_agents(), cursor, limit)
    return AgentPage(items=[_agent_out(a) for a in rows], next_cursor=following)


@router.get("/agents/{agent_id}", response={200: AgentOut, **COMMON}, url_name="agent", summary="Read an agent")
def read_agent(request: HttpRequest, agent_id: int) -> AgentOut:
    _setup_reader(request)
    return _agent_out(_one(_agents(), agent_id))


# ---------------------------------------------------------------------------- departments


def _department_out(d: Department) -> DepartmentOut:
    return DepartmentOut(
        id=d.pk,
        name=d.name,
        parent=d.parent_id,
        manager=d.manager_id,
        email=d.email,
        is_public=d.is_public,
        unknown_senders=d.unknown_senders,
        assign_members_only=d.assign_members_only,
        sla_plan=d.sla_plan_id,
        assignment_mode=d.assignment_mode,
        open_ticket_limit=d.open_ticket_limit,
        auto_close_days=d.auto_close_days,
    )


@router.get("/departments", response={200: DepartmentPage, **COMMON}, url_name="departments", summary="List them")
def list_departments(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> DepartmentPage:
    _setup_reader(request)
    rows, following = _page(Department.objects.all(), cursor, limit)
    return DepartmentPage(items=[_department_out(d) for d in rows], next_cursor=following)


@router.post("/departments", response={201: DepartmentOut, **COMMON}, url_name="departments", summary="Create one")
def create_department(request: HttpRequest, payload: DepartmentIn) -> Status[DepartmentOut]:
    actor = _writer(request, Scope.ADMIN)
    return Status(201, _department_out(directory.create_department(actor, _values(payload, partial=True))))


@router.get(
    "/departments/{department_id}", response={200: DepartmentOut, **COMMON}, url_name="department", summary="Read one"
)
def read_department(request: HttpRequest, department_id: int) -> DepartmentOut:
    _setup_reader(request)
    return _department_out(_one(Department.objects.all(), department_id))


@router.patch(
    "/departments/{department_id}", response={200: DepartmentOut, **COMMON}, url_name="department", summary="Change"
)
def update_department(request: HttpRequest, department_id: int, payload: DepartmentPatch) -> DepartmentOut:
    actor = _writer(request, Scope.ADMIN)
    department = _one(Department.objects.all(), department_id)
    return _department_out(directory.update_department(actor, department, _values(payload, partial=True)))


# ---------------------------------------------------------------------------- teams


def _teams() -> models.QuerySet[Team]:
    return Team.objects.prefetch_related("members")


def _team_out(t: Team) -> TeamOut:
    return TeamOut(
        id=t.pk,
        name=t.name,
        lead=t.lead_id,
        members=sorted(a.pk for a in t.members.all()),
        is_active=t.is_active,
        assignment_mode=t.assignment_mode,
    )


def _team_values(payload: TeamPatch, *, partial: bool) -> tuple[dict[str, Any], list[int] | None]:
    values = _values(payload, partial=partial)
    members = values.pop("members", None)
    return values, members


@router.get("/teams", response={200: TeamPage, **COMMON}, url_name="teams", summary="List teams")
def list_teams(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> TeamPage:
    _setup_reader(request)
    rows, following = _page(_teams(), cursor, limit)
    return TeamPage(items=[_team_out(t) for t in rows], next_cursor=following)


@router.post("/teams", response={201: TeamOut, **COMMON}, url_name="teams", summary="Create a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[TeamOut]:
    actor = _writer(request, Scope.ADMIN)
    values, members = _team_values(payload, partial=True)
    team = directory.save_team(actor, None, values, members)
    return Status(201, _team_out(_one(_teams(), team.pk)))


@router.get("/teams/{team_id}", response={200: TeamOut, **COMMON}, url_name="team", summary="Read a team")
def read_team(request: HttpRequest, team_id: int) -> TeamOut:
    _setup_reader(request)
    return _team_out(_one(_teams(), team_id))


@router.patch("/teams/{team_id}", response={200: TeamOut, **COMMON}, url_name="team", summary="Change a team")
def update_team(request: HttpRequest, team_id: int, payload: TeamPatch) -> TeamOut:
    actor = _writer(request, Scope.ADMIN)
    team = _one(_teams(), team_id)
    values, members = _team_values(payload, partial=True)
    directory.save_team(actor, team, values, members)
    return _team_out(_one(_teams(), team.pk))


# ---------------------------------------------------------------------------- help topics


def _topic_out(t: HelpTopic) -> TopicOut:
    return TopicOut(
        id=t.pk,
        name=t.name,
        department=t.department_id,
        default_priority=t.default_priority_id,
        is_public=t.is_public,
        is_active=t.is_active,
        sla_plan=t.sla_plan_id,
    )


@router.get("/topics", response={200: TopicPage, **COMMON}, url_name="topics", summary="List help topics")
def list_topics(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> TopicPage:
    _reader(request, Scope.TICKETS_READ)
    rows, following = _page(HelpTopic.objects.all(), cursor, limit)
    return TopicPage(items=[_topic_out(t) for t in rows], next_cursor=following)


@router.post("/topics", response={201: TopicOut, **COMMON}, url_name="topics", summary="Create a help topic")
def create_topic(request: HttpRequest, payload: TopicIn) -> Status[TopicOut]:
    actor = _writer(request, Scope.ADMIN)
    return Status(201, _topic_out(services.save_topic(actor, None, _values(payload, partial=True))))


@router.get("/topics/{topic_id}", response={200: TopicOut, **COMMON}, url_name="topic", summary="Read a help topic")
def read_topic(request: HttpRequest, topic_id: int) -> TopicOut:
    _reader(request, Scope.TICKETS_READ)
    return _topic_out(_one(HelpTopic.objects.all(), topic_id))


@router.patch("/topics/{topic_id}", response={200: TopicOut, **COMMON}, url_name="topic", summary="Change a topic")
def update_topic(request: HttpRequest, topic_id: int, payload: TopicPatch) -> TopicOut:
    actor = _writer(request, Scope.ADMIN)
    topic = _one(HelpTopic.objects.all(), topic_id)
    return _topic_out(services.save_topic(actor, topic, _values(payload, partial=True)))


# ---------------------------------------------------------------------------- priorities and statuses


def _priority_out(p: Priority) -> PriorityOut:
    return PriorityOut(id=p.pk, name=p.name, urgency=p.urgency, colour=p.colour, is_default=p.is_default)


@router.get("/priorities", response={200: PriorityPage, **COMMON}, url_name="priorities", summary="List priorities")
def list_priorities(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> PriorityPage:
    _reader(request, Scope.TICKETS_READ)
    rows, following = _page(Priority.objects.all(), cursor, limit)
    return PriorityPage(items=[_priority_out(p) for p in rows], next_cursor=following)


@router.post("/priorities", response={201: PriorityOut, **COMMON}, url_name="priorities", summary="Create a priority")
def create_priority(request: HttpRequest, payload: PriorityIn) -> Status[PriorityOut]:
    actor = _writer(request, Scope.ADMIN)
    return Status(201, _priority_out(services.save_priority(actor, None, _values(payload, partial=True))))


@router.get(
    "/priorities/{priority_id}", response={200: PriorityOut, **COMMON}, url_name="priority", summary="Read a priority"
)
def read_priority(request: HttpRequest, priority_id: int) -> PriorityOut:
    _reader(request, Scope.TICKETS_READ)
    return _priority_out(_one(Priority.objects.all(), priority_id))


@router.patch(
    "/priorities/{priority_id}", response={200: PriorityOut, **COMMON}, url_name="priority", summary="Change one"
)
def update_priority(request: HttpRequest, priority_id: int, payload: PriorityPatch) -> PriorityOut:
    actor = _writer(request, Scope.ADMIN)
    priority = _one(Priority.objects.all(), priority_id)
    return _priority_out(services.save_priority(actor, priority, _values(payload, partial=True)))


def _status_out(s: TicketStatus) -> StatusOut:
    return StatusOut(id=s.pk, name=s.name, state=s.state, order=s.order, is_default=s.is_default)


@router.get("/statuses", response={200: StatusPage, **COMMON}, url_name="statuses", summary="List statuses")
def list_statuses(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> StatusPage:
    _reader(request, Scope.TICKETS_READ)
    rows, following = _page(TicketStatus.objects.all(), cursor, limit)
    return StatusPage(items=[_status_out(s) for s in rows], next_cursor=following)


@router.post("/statuses", response={201: StatusOut, **COMMON}, url_name="statuses", summary="Create a status")
def create_status(request: HttpRequest, payload: StatusIn) -> Status[StatusOut]:
    actor = _writer(request, Scope.ADMIN)
    return Status(201, _status_out(services.save_status(actor, None, _values(payload, partial=True))))


@router.get("/statuses/{status_id}", response={200: StatusOut, **COMMON}, url_name="status", summary="Read a status")
def read_status(request: HttpRequest, status_id: int) -> StatusOut:
    _reader(request, Scope.TICKETS_READ)
    return _status_out(_one(TicketStatus.objects.all(), status_id))


@router.patch(
    "/statuses/{status_id}",
    response={200: StatusOut, **COMMON},
    url_name="status",
    summary="Change a status (its state only while no ticket has it)",
)
def update_status(request: HttpRequest, status_id: int, payload: StatusPatch) -> StatusOut:
    actor = _writer(request, Scope.ADMIN)
    status = _one(TicketStatus.objects.all(), status_id)
    return _status_out(services.save_status(actor, status, _values(payload, partial=True)))


# ---------------------------------------------------------------------------- SLA plans


def _plans() -> models.QuerySet[SlaPlan]:
    return SlaPlan.objects.select_related("schedule").prefetch_related("targets")


def _plan_out(p: SlaPlan) -> SlaPlanOut:
    return SlaPlanOut(
        id=p.pk,
        name=p.name,
        schedule=ScheduleOut(id=p.schedule.pk, name=p.schedule.name, time_zone=p.schedule.time_zone),
        first_response_minutes=p.first_response_minutes,
        resolution_minutes=p.resolution_minutes,
        warn_percent=p.warn_percent,
        is_active=p.is_active,
        is_default=p.is_default,
        targets=[
            SlaTargetOut(
                priority=t.priority_id,
                first_response_minutes=t.first_response_minutes,
                resolution_minutes=t.resolution_minutes,
            )
            for t in sorted(p.targets.all(), key=lambda t: t.priority_id)
        ],
    )


@router.get("/sla-plans", response={200: SlaPlanPage, **COMMON}, url_name="sla_plans", summary="List SLA plans")
def list_sla_plans(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> SlaPlanPage:
    _reader(request, Scope.TICKETS_READ)
    rows, following = _page(_plans(), cursor, limit)
    return SlaPlanPage(items=[_plan_out(p) for p in rows], next_cursor=following)


@router.get("/sla-plans/{plan_id}", response={200: SlaPlanOut, **COMMON}, url_name="sla_plan", summary="Read a plan")
def read_sla_plan(request: HttpRequest, plan_id: int) -> SlaPlanOut:
    _reader(request, Scope.TICKETS_READ)
    return _plan_out(_one(_plans(), plan_id))


# ---------------------------------------------------------------------------- routing rules


def _rule_reader(request: HttpRequest) -> None:
    """Rules are configuration (their conditions name customers and addresses): an agent key's
    agent must be an administrator, as in the admin."""
    actor = _reader(request, Scope.TICKETS_READ)
    if actor is not None and not policy.can_change_desk_setup(actor):
        raise ApiProblem("forbidden", _("Only administrators read the routing rules."))


def _rules() -> models.QuerySet[Rule]:
    return Rule.objects.prefetch_related("conditions", "actions")


def _action_target(action: RuleAction) -> int | None:
    field = TARGET_FIELDS.get(ActionKind(action.kind)) if action.kind in ActionKind.values else None
    return getattr(action, f"{field}_id") if field else None


def _rule_out(r: Rule) -> RuleOut:
    return RuleOut(
        id=r.pk,
        name=r.name,
        order=r.order,
        is_active=r.is_active,
        match=r.match,
        stop_processing=r.stop_processing,
        conditions=[ConditionOut(field=c.field, operator=c.operator, value=c.value) for c in r.conditions.all()],
        actions=[
            RuleActionOut(
                kind=a.kind,
                target=_action_target(a),
                text=a.text,
            )
            for a in r.actions.all()
        ],
        match_count=r.match_count,
        last_matched_at=r.last_matched_at,
    )


@router.get("/routing-rules", response={200: RulePage, **COMMON}, url_name="routing_rules", summary="List the rules")
def list_routing_rules(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> RulePage:
    _rule_reader(request)
    rows, following = _page(_rules(), cursor, limit)
    return RulePage(items=[_rule_out(r) for r in rows], next_cursor=following)


@router.get(
    "/routing-rules/{rule_id}", response={200: RuleOut, **COMMON}, url_name="routing_rule", summary="Read a rule"
)
def read_routing_rule(request: HttpRequest, rule_id: int) -> RuleOut:
    _rule_reader(request)
    return _rule_out(_one(_rules(), rule_id))
