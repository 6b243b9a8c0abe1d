"""The one place that decides who may do what to a ticket.

Agents reach a ticket through its department (their membership's role decides
what they may do), through assignment to them or their team, or through a
referral (they sent it on and keep following it). End users reach their own
tickets and those they are copied on.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, cast

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.accounts.models import Agent, DirectoryNote, Membership, Perm, User

from .models import State, ThreadEntry, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from tessera.accounts.models import Department, Team


class Action(StrEnum):
    """Everything `can` is asked about: the role permissions (the Perm values, spelled the same,
    so a Perm or a plain string still works) and the actions no role grants by name."""

    VIEW = Perm.VIEW.value
    REPLY = Perm.REPLY.value
    NOTE = Perm.NOTE.value
    ASSIGN = Perm.ASSIGN.value
    TRANSFER = Perm.TRANSFER.value
    PRIORITY = Perm.PRIORITY.value
    STATUS = Perm.STATUS.value
    CLOSE = Perm.CLOSE.value
    DELETE = Perm.DELETE.value
    MERGE = Perm.MERGE.value
    MANAGE = Perm.MANAGE.value
    OPEN = "open"  # open a ticket (no ticket yet)
    CLAIM = "claim"  # take an unassigned ticket
    RELEASE = "release"  # hand an assigned ticket back to the pool
    SLA_PLAN = "sla_plan"  # put the ticket on another SLA plan
    DUE_DATE = "due_date"  # set a due date of one's own, which wins over the plan's
    TOPIC = "topic"  # say what the ticket is about (its help topic): a ticket detail, see `can`
    CANNED = Perm.CANNED.value  # manage canned responses: not about one ticket, see can_manage_canned


# Actions an end user may take on a ticket they own or are copied on.
END_USER_ACTIONS = frozenset({Action.VIEW, Action.REPLY, Action.CLOSE})
# What following a referred ticket allows, on top of seeing it.
REFERRAL_ACTIONS = frozenset({Perm.VIEW, Perm.NOTE, Perm.REPLY, Perm.CLOSE})
# A superuser who is an agent holds every permission everywhere; the ticket's state still applies.
ALL_PERMS = frozenset(Perm.values)


@dataclass(frozen=True)
class Access:
    """How one agent reaches one ticket."""

    role_perms: frozenset[str]
    via_department: bool
    via_assignment: bool
    via_referral: bool

    @property
    def any(self) -> bool:
        return self.via_department or self.via_assignment or self.via_referral


def _memberships(agent: Agent) -> list[Membership]:
    # Cached per Agent instance: a page asks policy many questions about one agent.
    cache = getattr(agent, "_membership_cache", None)
    if cache is None:
        cache = list(agent.memberships.select_related("role"))
        agent._membership_cache = cache
    return cache


def _team_ids(agent: Agent) -> set[int]:
    cache = getattr(agent, "_team_cache", None)
    if cache is None:
        cache = set(agent.teams.filter(is_active=True).values_list("id", flat=True))
        agent._team_cache = cache
    return cache


def department_ids(agent: Agent) -> set[int]:
    return {m.department_id for m in _memberships(agent)}


def primary_perms(agent: Agent) -> frozenset[str]:
    memberships = _memberships(agent)
    primary = next((m for m in memberships if m.is_primary), memberships[0] if memberships else None)
    return frozenset(primary.role.permissions) if primary else frozenset()


def department_perms(agent: Agent, department_id: int) -> frozenset[str]:
    for m in _memberships(agent):
        if m.department_id == department_id:
            return frozenset(m.role.permissions)
    return frozenset()


def access(agent: Agent, ticket: Ticket) -> Access:
    dept_perms = department_perms(agent, ticket.department_id)
    via_department = Perm.VIEW in dept_perms
    via_assignment = ticket.assignee_id == agent.pk or (
        ticket.team_id is not None and ticket.team_id in _team_ids(agent)
    )
    via_referral = not (via_department or via_assignment) and _is_referred(agent, ticket)
    if via_department:
        perms = dept_perms
    elif via_assignment:
        perms = primary_perms(agent) | {Perm.VIEW}
    elif via_referral:
        perms = (primary_perms(agent) & REFERRAL_ACTIONS) | {Perm.VIEW}
    else:
        perms = frozenset()
    return Access(frozenset(perms), via_department, via_assignment, via_referral)


def _is_referred(agent: Agent, ticket: Ticket) -> bool:
    # Not cached: a referral is created in the middle of the very service that asks next.
    return ticket.referrals.filter(agent_id=agent.pk).exists()


def _active_agent(user: User | None) -> Agent | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    agent = user.agent_or_none
    return agent if agent is not None and agent.is_active else None


def is_end_user_party(user: User, ticket: Ticket) -> bool:
    if ticket.user_id == user.pk:
        return True
    return ticket.collaborators.filter(user_id=user.pk).exists()


def can(
    actor: User | None, action: Action | str, ticket: Ticket | None = None, *, department: Department | None = None
) -> bool:
    """May `actor` do `action` to `ticket` (or, with no ticket, in `department`)?

    Actions are the `Action` members: the Perm values plus OPEN, CLAIM, RELEASE and TOPIC. Plain
    strings with the same spelling are accepted while callers move to the enum.
    """
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    agent = _active_agent(actor)

    if ticket is None:
        if action == Action.OPEN:
            return True  # any signed-in person may open a ticket; topic visibility is checked by the service
        if agent is None:
            return False
        if actor.is_superuser:
            return True
        if department is not None:
            return action in department_perms(agent, department.pk)
        return any(action in m.role.permissions for m in _memberships(agent))

    acc = _agent_access(actor, agent, ticket)
    if acc is None:
        # Not an agent who reaches the ticket: what they may do is what its requester
        # or a person copied on it may do (an agent can be copied on a ticket too).
        return _end_user_can(actor, action, ticket)
    if not acc.any:
        return False
    perms = acc.role_perms
    if action == Action.CLAIM:
        # Taking an unassigned ticket only needs the right to answer it, from someone who works it:
        # an agent who only follows a referred ticket cannot take it back that way.
        return (
            bool({Perm.ASSIGN, Perm.REPLY} & perms)
            and not _follows_only(acc)
            and ticket.assignee_id is None
            and ticket.is_active
        )
    if action == Action.RELEASE:
        # The assignee may always hand their own ticket back; others need the assign permission.
        return (Perm.ASSIGN in perms or (agent is not None and ticket.assignee_id == agent.pk)) and _state_allows(
            action, ticket
        )
    if action in (Action.SLA_PLAN, Action.DUE_DATE):
        # Deciding how urgent a ticket is: the priority permission, from someone who works it,
        # while something is still due on it.
        return Perm.PRIORITY in perms and not _follows_only(acc) and ticket.is_active and _state_allows(action, ticket)
    if action == Action.TOPIC:
        # The help topic is one of the ticket's details, which the manage permission covers
        # ("Manage collaborators and ticket details"); the ticket's state applies as to managing.
        action = Action.MANAGE
    if action not in perms:
        return False
    if actor.is_superuser and ticket.state == State.ARCHIVED and ticket.merged_into_id is None:
        return action in (Perm.VIEW, Perm.STATUS, Perm.CLOSE)  # an administrator can always bring it back
    # Followers (referral only) may close what the handling department resolved, nothing earlier.
    if _follows_only(acc) and action == Perm.CLOSE and ticket.state != State.RESOLVED:
        return False
    return _state_allows(action, ticket)


def _agent_access(actor: User, agent: Agent | None, ticket: Ticket) -> Access | None:
    """How `actor` reaches `ticket` as an agent, or None when they act as an end user."""
    if agent is None:
        return None
    if actor.is_superuser:
        return Access(ALL_PERMS, via_department=True, via_assignment=False, via_referral=False)
    acc = access(agent, ticket)
    if not acc.any and is_end_user_party(actor, ticket):
        return None
    return acc


def _follows_only(acc: Access) -> bool:
    return acc.via_referral and not (acc.via_department or acc.via_assignment)


def acts_as_agent(actor: User | None, ticket: Ticket) -> bool:
    """Does `actor` work this ticket as an agent (their replies are responses), rather than
    as its requester or a person copied on it (their replies are messages)?"""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    acc = _agent_access(actor, _active_agent(actor), ticket)
    return acc is not None and acc.any


def can_see_entry(actor: User | None, entry: ThreadEntry) -> bool:
    """May `actor` see this entry and what is attached to it? Agents who work the ticket see
    everything on it; anyone who reaches it only as its requester or a person copied on it (an
    agent from another department included) sees what the portal shows: public entries."""
    if not can(actor, Action.VIEW, entry.ticket):
        return False
    return entry.is_public or acts_as_agent(actor, entry.ticket)


def _state_allows(action: Action | str, ticket: Ticket) -> bool:
    if ticket.merged_into_id is not None:
        # A merged ticket is a closed pointer to the one that survived, where its entries now
        # live: reopening, answering or merging it again would split the conversation anew.
        return action in (Perm.VIEW, Perm.NOTE, Perm.DELETE)
    if ticket.state == State.ARCHIVED:
        return action == Perm.VIEW
    if ticket.state == State.CLOSED:
        # A closed ticket is read-only until reopened (a status change); notes and
        # housekeeping (merge, delete) still work.
        return action in (Perm.VIEW, Perm.NOTE, Perm.STATUS, Perm.MERGE, Perm.DELETE)
    return True


def _end_user_can(user: User, action: Action | str, ticket: Ticket) -> bool:
    if action not in END_USER_ACTIONS:
        return False
    if not is_end_user_party(user, ticket) and not (
        action in ORGANISATION_SHARED_ACTIONS and shares_organisation_ticket(user, ticket)
    ):
        return False
    if action == Action.CLOSE:
        return ticket.user_id == user.pk and ticket.state != State.CLOSED and ticket.state != State.ARCHIVED
    if action == Action.REPLY:
        # A merged ticket's conversation continues on the ticket it was merged into.
        return ticket.state != State.ARCHIVED and ticket.merged_into_id is None
    return True


def may_reopen_as_requester(user: User | None, ticket: Ticket) -> bool:
    """Who may reopen a resolved or closed ticket from the Help Center: its requester, as for
    closing (people copied on it reply instead). Whether the status's window still allows it is
    the reopen service's question (tickets/services/reopen.may_reopen)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return (
        ticket.user_id == user.pk and ticket.state in (State.RESOLVED, State.CLOSED) and ticket.merged_into_id is None
    )


# ---------------------------------------------------------------------------- who may be assigned


def may_be_assigned(
    agent: Agent, ticket: Ticket, *, department: Department | None = None, team: Team | None = None
) -> bool:
    """May `agent` be made the assignee of `ticket` (osTicket's "restrict assignment to members")?

    The rule is the department's: `department` is where the ticket will be (a transfer's target;
    the ticket's own by default) and `team` the team it will be assigned to (the ticket's own by
    default). When that department restricts assignment, the agent must be one of its members or
    a member of that team, the two ways an agent works a ticket as its own (see `access`). It is
    a question about the assignee, not the actor: a superuser cannot assign an outsider either.
    """
    department = department if department is not None else ticket.department
    if not department.assign_members_only:
        return True
    if department.pk in department_ids(agent):
        return True
    team_id = team.pk if team is not None else ticket.team_id
    return team_id is not None and team_id in _team_ids(agent)


def assignable_agents[A: Agent](agents: Sequence[A], ticket: Ticket, department: Department) -> list[A]:
    """`may_be_assigned` for a whole select's worth of agents, for a ticket going to `department`.

    `agents` come from `selectors.agent_choices(department.pk)`, whose `in_department`
    annotation answers the membership half; the team half costs one query, and only when the
    department restricts assignment and the ticket has a team."""
    if not department.assign_members_only:
        return list(agents)
    team_members: set[int] = set()
    if ticket.team_id is not None:
        team_members = set(
            Agent.objects.filter(teams=ticket.team_id, teams__is_active=True).values_list("pk", flat=True)
        )
    return [a for a in agents if getattr(a, "in_department", False) or a.pk in team_members]


# ---------------------------------------------------------------------------- why controls are missing

# The ticket page's everyday controls, in the order a sentence lists them, each with what it lets
# the viewer do (phrased to follow "You can").
DAILY_CONTROLS: dict[str, StrPromise] = {
    Action.REPLY: gettext_lazy("reply"),
    Action.NOTE: gettext_lazy("add notes"),
    Action.ASSIGN: gettext_lazy("assign it"),
    Action.TRANSFER: gettext_lazy("transfer it"),
    Action.PRIORITY: gettext_lazy("change its priority"),
    Action.STATUS: gettext_lazy("change its status"),
}


def _what_you_can(shown: Collection[str]) -> str:
    doing = [str(words) for action, words in DAILY_CONTROLS.items() if action in shown]
    if not doing:
        return _("You can read it, but not change it.")
    listed = (
        doing[0] if len(doing) == 1 else _("%(some)s and %(last)s") % {"some": ", ".join(doing[:-1]), "last": doing[-1]}
    )
    return _("You can %(actions)s.") % {"actions": listed}


def controls_notice(actor: User, ticket: Ticket, shown: Collection[str]) -> str:
    """One line saying why some of the ticket page's everyday controls are missing, and what is
    left, so that controls never vanish without a word; "" when every one of them is shown.

    `shown` names the controls the page shows (the DAILY_CONTROLS keys; the page has already
    asked `can` about each). The reason is the first that applies: the ticket was merged, is
    archived or closed; the viewer only follows it (a referral); their role allows no more. Costs
    no query for an agent of the ticket's department (memberships are cached on the agent)."""
    if all(action in shown for action in DAILY_CONTROLS):
        return ""
    reason = ""
    if ticket.merged_into_id is not None:
        reason = _("This ticket was merged into %(ref)s, where its conversation continues.") % {
            "ref": cast(Ticket, ticket.merged_into).reference  # merged_into_id is set
        }
    elif ticket.state == State.ARCHIVED:
        reason = _("This ticket is archived.")
    elif ticket.state == State.CLOSED:
        if Action.STATUS in shown:
            reason = _("This ticket is closed: reopen it (change its status) to reply or change it.")
        else:
            reason = _("This ticket is closed.")
    else:
        agent = _active_agent(actor)
        if agent is not None and not actor.is_superuser:
            reason = _role_reason(agent, ticket)
    return " ".join(part for part in (reason, _what_you_can(shown)) if part)


def _role_reason(agent: Agent, ticket: Ticket) -> str:
    acc = access(agent, ticket)
    if _follows_only(acc):
        return _("You follow this ticket; %(department)s handles it now.") % {"department": ticket.department.name}
    memberships = _memberships(agent)
    if acc.via_department:
        held = next(m for m in memberships if m.department_id == ticket.department_id)
        return _("Your role in %(department)s is %(role)s.") % {
            "department": ticket.department.name,
            "role": held.role.name,
        }
    primary = next((m for m in memberships if m.is_primary), memberships[0] if memberships else None)
    if acc.via_assignment and primary is not None:
        return _("This ticket reaches you through its assignment, with your %(role)s role from %(department)s.") % {
            "role": primary.role.name,
            "department": primary.department.name,
        }
    return ""


# ---------------------------------------------------------------------------- statuses


def status_action(state: str) -> Action:
    """Which permission setting a status of this state takes: closing and archiving need
    CLOSE, every other status STATUS (resolving and reopening are status changes)."""
    return Action.CLOSE if state in (State.CLOSED, State.ARCHIVED) else Action.STATUS


def can_set_status(actor: User | None, ticket: Ticket, state: str) -> bool:
    """May `actor` put `ticket` into a status of this state (see `status_action`)? An end user's
    "close" never archives: only an agent who works the ticket may archive it."""
    if state == State.ARCHIVED and (actor is None or not acts_as_agent(actor, ticket)):
        return False
    return can(actor, status_action(state), ticket)


def settable_states(actor: User | None, ticket: Ticket) -> frozenset[str]:
    """Every lifecycle state whose statuses `actor` may set on `ticket`, for a page that offers
    a list of statuses: two questions (STATUS, CLOSE), however many statuses the desk defines."""
    allowed = {action: can(actor, action, ticket) for action in (Action.STATUS, Action.CLOSE)}
    states = {state for state in State.values if allowed[status_action(state)]}
    if State.ARCHIVED in states and (actor is None or not acts_as_agent(actor, ticket)):
        states.discard(State.ARCHIVED)  # as in can_set_status: an end user's close never archives
    return frozenset(states)


# ---------------------------------------------------------------------------- the workspace and its people


def may_enter_workspace(user: User | AnonymousUser | None) -> bool:
    """May this person sign in to the agent workspace? Agents, and superusers (who configure
    the desk and are told there why they need an agent profile to work tickets)."""
    return user is not None and user.is_authenticated and user.is_active and (user.is_agent or user.is_superuser)


def workspace_agent(user: User | AnonymousUser | None) -> Agent | None:
    """The Agent whose workspace pages this signed-in person may use, or None (an end user, a
    superuser without an agent profile, a disabled agent)."""
    if user is None or not user.is_authenticated or not user.is_agent:
        return None
    return user.agent


class OwnedByAnAgent(Protocol):
    """Anything an agent owns, such as the workspace's saved queues (the core does not import
    the workspace, so it asks only for the owner)."""

    @property
    def owner_id(self) -> int | None: ...


def can_edit_saved_queue(actor: User | AnonymousUser | None, saved: OwnedByAnAgent) -> bool:
    """Renaming, re-filtering or deleting a saved queue: its owner, or a superuser."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return actor.is_superuser or (actor.is_agent and saved.owner_id == actor.agent.pk)


def can_share_saved_queues(actor: User | AnonymousUser | None) -> bool:
    """Sharing a saved queue with departments and teams is for administrators (superusers)."""
    return actor is not None and actor.is_authenticated and actor.is_active and actor.is_superuser


def can_save_queues(actor: User | None) -> bool:
    """Saving a personal queue: any active agent (the queue belongs to their agent profile)."""
    return actor is not None and actor.is_authenticated and actor.is_active and actor.is_agent


def can_edit_agent_profile(actor: User | None, agent: Agent) -> bool:
    """An agent keeps their own name, time zone, signature and availability; a superuser may
    change anyone's."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return actor.pk == agent.user_id or actor.is_superuser


def can_read_directory(actor: User | None) -> bool:
    """The people and the desk's set-up (users, organisations, agents, departments, teams,
    topics, priorities, statuses, SLA plans): any active agent, who meets them on every ticket
    page, and administrators."""
    return actor is not None and actor.is_active and (actor.is_agent or actor.is_superuser)


def can_edit_person(actor: User | None, person: User | None) -> bool:
    """Creating an end user (person None) or changing one: any active agent, as they add
    collaborators by address in the workspace. People who work the desk or configure it (agents,
    administrators) are changed only in the admin: a changed address there would hand someone
    their password reset."""
    if not can_read_directory(actor):
        return False
    return person is None or not is_desk_staff(person)


def is_desk_staff(person: User) -> bool:
    """Works or configures the desk: an agent (active or not) or an administrator."""
    return person.is_staff or person.is_superuser or person.agent_or_none is not None


def can_change_desk_setup(actor: User | None) -> bool:
    """Organisations, departments, teams, help topics, priorities: what the configuration admin
    changes, so only its administrators (superusers)."""
    return actor is not None and actor.is_active and actor.is_superuser


# ---------------------------------------------------------------------------- queues


def sees(agent: Agent, ticket: Ticket) -> bool:
    """visible_tickets for one ticket already in hand, decided in Python (memberships and teams
    are cached on the agent; only a referral costs a query, and only when nothing else applies)."""
    return agent.user.is_superuser or access(agent, ticket).any


class _InArray(Func):
    """`a = ANY(b)`: `b` an ARRAY(subquery)."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _referred_q(agent: Agent) -> Q:
    """Tickets referred to the agent. The referral join can duplicate rows, so it is an id
    subquery. On PostgreSQL written `id = ANY(ARRAY(subquery))`, an InitPlan run and costed once:
    as `id IN (subquery)` it is a hashed SubPlan that the planner charges again on every probe
    of a nested loop whose inner side is the ticket table (a queue filtered on one choice item,
    customfields.queue), which made a 0.5 ms serial walk look dear enough to launch two parallel
    workers (20 ms on a loaded machine; bench/RESULTS.md)."""
    referred = Ticket.objects.filter(referrals__agent_id=agent.pk).values("pk")
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        return Q(_InArray(F("pk"), ArraySubquery(referred)))
    return Q(pk__in=referred)


def visible_tickets(agent: Agent, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if qs is None else qs
    if agent.user.is_superuser:
        return qs
    view_depts = [m.department_id for m in _memberships(agent) if Perm.VIEW in m.role.permissions]
    q = Q(department_id__in=view_depts) | Q(assignee_id=agent.pk) | _referred_q(agent)
    teams = _team_ids(agent)
    if teams:
        q |= Q(team_id__in=teams)
    return qs.filter(q)


# ---------------------------------------------------------------------------- tickets opened by agents


def can_open_in(actor: User | None, department: Department) -> bool:
    """May `actor` open a ticket on someone's behalf in `department` (the workspace's "New
    ticket": a phone call, a walk-in)? An active agent who may view that department's tickets,
    or a superuser with an agent profile: nobody opens a ticket they could not then see."""
    agent = _active_agent(actor)
    if actor is None or agent is None:
        return False
    return actor.is_superuser or Perm.VIEW in department_perms(agent, department.pk)


def can_act_in(actor: User | None, action: Action | str, department: Department) -> bool:
    """Would `actor` be allowed `action` (assign, note, manage) on a ticket in `department`? For
    a form that offers those controls before the ticket exists; the services decide again on
    the ticket itself once it does."""
    if _active_agent(actor) is None:
        return False
    return can(actor, action, department=department)


def may_be_requester(person: User) -> bool:
    """Can `person` be the requester of a ticket an agent opens? End users only: someone who works
    or configures the desk is never a requester (their name on a customer's message would read
    as the desk speaking), as the API refuses staff addresses."""
    return person.is_active and not is_desk_staff(person)


# ---------------------------------------------------------------------------- canned responses


@dataclass(frozen=True)
class CannedScope:
    """Which canned responses an agent may create, change and delete: all of them (a
    superuser), or those shared only with departments where their role grants Perm.CANNED, plus
    those shared with everyone when their primary department's role grants it."""

    everything: bool
    department_ids: frozenset[int]
    everyone: bool

    @property
    def any(self) -> bool:
        return self.everything or self.everyone or bool(self.department_ids)


def canned_scope(actor: User | AnonymousUser | None) -> CannedScope:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return CannedScope(False, frozenset(), False)
    if actor.is_superuser:
        return CannedScope(True, frozenset(), True)
    agent = _active_agent(actor)
    if agent is None:
        return CannedScope(False, frozenset(), False)
    departments = frozenset(m.department_id for m in _memberships(agent) if Perm.CANNED in m.role.permissions)
    return CannedScope(False, departments, Perm.CANNED in primary_perms(agent))


def can_manage_canned(actor: User | AnonymousUser | None, department_ids: Collection[int]) -> bool:
    """Creating, changing or deleting a canned response shared with these departments (none:
    shared with everyone). Every department it reaches must be one the agent manages responses
    for, so nobody changes what another department's agents send."""
    scope = canned_scope(actor)
    if scope.everything:
        return True
    if not department_ids:
        return scope.everyone
    return all(d in scope.department_ids for d in department_ids)


def can_use_canned(actor: User | None, ticket: Ticket) -> bool:
    """Inserting canned responses into a reply on this ticket: whoever may reply to it as an agent
    (which responses are offered is the ticket's department's business, see canned.selectors)."""
    return actor is not None and acts_as_agent(actor, ticket) and can(actor, Action.REPLY, ticket)


# ---------------------------------------------------------------------------- tasks (tessera.tasks)


class TaskLike(Protocol):
    """A task as policy sees it (the core does not import the tasks app)."""

    department_id: int
    assignee_id: int | None
    team_id: int | None
    ticket_id: int | None

    @property
    def ticket(self) -> Ticket | None: ...

    @property
    def is_open(self) -> bool: ...


class TaskAction(StrEnum):
    """What `can_task` is asked about a task that exists."""

    VIEW = "view"
    NOTE = "note"  # add a note to its thread: the note permission, as on tickets
    CREATE = Perm.TASK_CREATE.value  # asked by can_create_task, before there is a task
    EDIT = Perm.TASK_EDIT.value  # title, description, due date
    ASSIGN = Perm.TASK_ASSIGN.value
    TRANSFER = Perm.TASK_TRANSFER.value
    CLOSE = Perm.TASK_CLOSE.value
    REOPEN = "task_reopen"  # the close permission, on a closed task
    DELETE = Perm.TASK_DELETE.value  # open or closed


def task_perms(actor: User | None, task: TaskLike) -> frozenset[str] | None:
    """The permissions `actor` holds on `task`, or None when the task does not exist for them.

    A task is seen by the agents of its department (their role there), its assignee and its
    team's members (their primary role), and whoever works its ticket (their role on the ticket;
    an agent who only follows a referred ticket may read its tasks and nothing more)."""
    agent = _active_agent(actor)
    if actor is None or agent is None:
        return None
    if actor.is_superuser:
        return ALL_PERMS
    dept = department_perms(agent, task.department_id)
    if Perm.VIEW in dept:
        return dept
    if task.assignee_id == agent.pk or (task.team_id is not None and task.team_id in _team_ids(agent)):
        return primary_perms(agent) | {Perm.VIEW}
    ticket = task.ticket if task.ticket_id is not None else None
    if ticket is not None:
        acc = access(agent, ticket)
        if acc.via_department or acc.via_assignment:
            return acc.role_perms
        if acc.via_referral:
            return frozenset({Perm.VIEW})
    return None


def can_task(actor: User | None, action: TaskAction | str, task: TaskLike) -> bool:
    """May `actor` do `action` to `task`? Closed tasks take notes and reopening only."""
    perms = task_perms(actor, task)
    if perms is None:
        return False
    if action == TaskAction.VIEW:
        return True
    if action == TaskAction.NOTE:
        return Perm.NOTE in perms
    if action == TaskAction.REOPEN:
        return Perm.TASK_CLOSE in perms and not task.is_open
    if action == TaskAction.DELETE:
        return Perm.TASK_DELETE in perms
    return action in perms and task.is_open


def can_create_task(actor: User | None, *, ticket: Ticket | None = None) -> bool:
    """May `actor` create a task on `ticket` (their role on it; the ticket still open to work:
    not closed, archived or merged), or, with no ticket, a task of its own (the permission in any
    of their departments)?"""
    agent = _active_agent(actor)
    if actor is None or agent is None:
        return False
    if ticket is None:
        return actor.is_superuser or any(Perm.TASK_CREATE in m.role.permissions for m in _memberships(agent))
    if ticket.merged_into_id is not None or ticket.state in (State.CLOSED, State.ARCHIVED):
        return False
    acc = _agent_access(actor, agent, ticket)
    if acc is None or not (acc.via_department or acc.via_assignment):
        return False
    return Perm.TASK_CREATE in acc.role_perms


def visible_tasks_q(agent: Agent, *, via_tickets: bool = True) -> Q:
    """`task_perms is not None` as a filter over tasks (fields department, assignee, team, ticket);
    Q() (everything) for a superuser. The task queue leaves out (`via_tickets=False`) tasks seen
    only through their ticket: those are listed on the ticket's page."""
    if agent.user.is_superuser:
        return Q()
    view_depts = [m.department_id for m in _memberships(agent) if Perm.VIEW in m.role.permissions]
    q = Q(department_id__in=view_depts) | assigned_tasks_q(agent)
    if via_tickets:
        q |= Q(ticket_id__in=visible_tickets(agent).values("pk"))
    return q


def assigned_tasks_q(agent: Agent) -> Q:
    """Tasks assigned to `agent` or to one of their active teams ("My tasks")."""
    q = Q(assignee_id=agent.pk)
    teams = _team_ids(agent)
    if teams:
        q |= Q(team_id__in=teams)
    return q


# ---------------------------------------------------------------------------- organisations and the people directory

# What a member of an organisation that shares its tickets may do to a colleague's ticket: read it
# and answer it on the Help Center. Closing stays with its requester.
ORGANISATION_SHARED_ACTIONS = frozenset({Action.VIEW, Action.REPLY})


def sees_organisation_tickets(user: User) -> bool:
    """Does `user` see their organisation's tickets on the Help Center: as its manager (osTicket's
    primary contact, `User.organization_manager`), or as a member of one that shares tickets among
    members? The desk's account manager (an agent) grants nothing."""
    if user.organization_id is None or not user.is_active:
        return False
    if user.organization_manager:
        return True
    organization = user.organization
    return organization is not None and organization.share_tickets


def shares_organisation_ticket(user: User, ticket: Ticket) -> bool:
    """Is `ticket` one of the organisation's tickets that `user` sees (sees_organisation_tickets)?
    The ticket's organisation is the one it was opened for."""
    org_id = user.organization_id
    if org_id is None or ticket.organization_id != org_id:
        return False
    return sees_organisation_tickets(user)


def can_note_about(actor: User | None, person: User | None) -> bool:
    """Writing a note about an end user (or, person None, an organisation): any agent who reads
    the directory. Agents and administrators are not described in the people directory."""
    return can_read_directory(actor) and (person is None or not is_desk_staff(person))


def can_delete_directory_note(actor: User | None, note: DirectoryNote) -> bool:
    """A note about a person or an organisation: its author, or an administrator."""
    if not can_read_directory(actor) or actor is None:
        return False
    return actor.is_superuser or (note.author_id is not None and note.author_id == actor.pk)


def can_import_people(actor: User | None) -> bool:
    """Importing end users from a file: whoever may create and change end users (any agent).
    Agents' and administrators' rows are refused row by row, as in `can_edit_person`."""
    return can_edit_person(actor, None)


def can_export_directory(actor: User | None) -> bool:
    """Downloading every end user's or organisation's details at once: administrators only. An
    agent meets people one ticket at a time; a whole address book leaving the desk is an
    administrator's decision."""
    return can_change_desk_setup(actor)


# ---------------------------------------------------------------------------- custom fields


def can_edit_ticket_fields(actor: User | None, ticket: Ticket) -> bool:
    """Changing a ticket's answers to custom fields after it was opened: agents holding the
    manage permission on it ("manage collaborators and ticket details"), as for its help topic.
    End users answer at intake only."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return acts_as_agent(actor, ticket) and can(actor, Action.MANAGE, ticket)


def can_edit_person_fields(actor: User | None, person: User | None) -> bool:
    """A user's answers to custom fields (person given) or an organisation's (person None): any
    active agent, as for the person's other details; desk staff are changed in the admin only."""
    return can_edit_person(actor, person)
