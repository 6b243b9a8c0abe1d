"""Changes to the desk's directory made outside the admin (the REST API): end users,
organisations, departments and teams.

`actor` is the person the change is made for, or None for a system integration that its adapter
has already let in (an API key limited by its scopes alone). Every change is validated by the
model's own rules (`full_clean`: lengths, choices, validators, unique names, foreign keys that
exist) so the API and the admin refuse the same things, and is recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from tessera.audit import services as audit
from tessera.tickets import policy

from .models import Agent, Department, Organization, Team, User
from .services import _time_zones

USER_FIELDS = ("email", "name", "organization", "time_zone")
ORGANIZATION_FIELDS = ("name", "domain")
DEPARTMENT_FIELDS = (
    "name",
    "parent",
    "manager",
    "email",
    "is_public",
    "unknown_senders",
    "assign_members_only",
    "sla_plan",
    "assignment_mode",
    "open_ticket_limit",
    "auto_close_days",
)
TEAM_FIELDS = ("name", "lead", "is_active", "assignment_mode")


def require_setup_rights(actor: User | None) -> None:
    if actor is not None and not policy.can_change_desk_setup(actor):
        raise PermissionDenied(_("Only administrators change the desk's set-up."))


def save_checked[M: models.Model](
    actor: User | None,
    obj: M,
    values: Mapping[str, Any],
    *,
    allowed: Iterable[str],
    detail: str,
    exclude_from_check: Iterable[str] = (),
) -> M:
    """Set `values` (only the `allowed` fields; a foreign key by its id) on `obj`, validate it as
    the model does, save it and record what changed. Shared by every directory and set-up service."""
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    before = audit.snapshot(obj) if obj.pk is not None else None
    for name, value in values.items():
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            setattr(obj, field.attname, value)
        else:
            setattr(obj, name, "" if value is None and isinstance(field, models.CharField) else value)
    obj.full_clean(exclude=list(exclude_from_check))
    try:
        with transaction.atomic():
            obj.save()
            audit.record_change(actor, obj, before, detail=detail)
    except IntegrityError:
        # Two writers at once past full_clean's unique check: the second is told as the check would.
        raise ValidationError(_("Another change conflicted with this one; try again.")) from None
    return obj


# ---------------------------------------------------------------------------- end users


def _check_person(actor: User | None, person: User | None) -> None:
    if actor is not None:
        if not policy.can_edit_person(actor, person):
            raise PermissionDenied(_("You may not change this person."))
    elif person is not None and policy.is_desk_staff(person):
        raise PermissionDenied(_("Agents and administrators are changed in the admin."))


def _clean_person_values(values: Mapping[str, Any], person: User | None) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "email" in cleaned:
        email = str(cleaned["email"] or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid email address.")
        else:
            taken = User.objects.filter(email=email)
            if person is not None:
                taken = taken.exclude(pk=person.pk)
            if taken.exists():
                errors["email"] = _("Someone already has this address.")
        cleaned["email"] = email
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
    if cleaned.get("time_zone") and cleaned["time_zone"] not in _time_zones():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_end_user(actor: User | None, values: Mapping[str, Any]) -> User:
    """A new end user, without a password (they sign in by resetting it, like a user made by mail)."""
    _check_person(actor, None)
    if not values.get("email"):
        raise ValidationError({"email": _("This field is required.")})
    cleaned = _clean_person_values(values, None)
    user = User(email=cleaned["email"])
    user.set_unusable_password()
    return save_checked(
        actor, user, cleaned, allowed=USER_FIELDS, detail="user created", exclude_from_check=["password"]
    )


def update_end_user(actor: User | None, person: User, values: Mapping[str, Any]) -> User:
    _check_person(actor, person)
    cleaned = _clean_person_values(values, person)
    return save_checked(actor, person, cleaned, allowed=USER_FIELDS, detail="user changed")


# ---------------------------------------------------------------------------- organisations


def _check_organization_rights(actor: User | None) -> None:
    if actor is not None and not policy.can_change_desk_setup(actor):
        raise PermissionDenied(_("Only administrators create and change organisations."))


def _clean_domain(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    if "domain" in cleaned:
        cleaned["domain"] = str(cleaned["domain"] or "").strip().lower()
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
    return cleaned


def create_organization(actor: User | None, values: Mapping[str, Any]) -> Organization:
    _check_organization_rights(actor)
    return save_checked(
        actor, Organization(), _clean_domain(values), allowed=ORGANIZATION_FIELDS, detail="organisation created"
    )


def update_organization(actor: User | None, organization: Organization, values: Mapping[str, Any]) -> Organization:
    _check_organization_rights(actor)
    return save_checked(
        actor, organization, _clean_domain(values), allowed=ORGANIZATION_FIELDS, detail="organisation changed"
    )


# ---------------------------------------------------------------------------- departments and teams


def _check_parent(department: Department, parent_id: Any) -> None:
    """A department may not sit under itself, however far down."""
    seen: set[int] = set()
    current = parent_id
    while current is not None and current not in seen:
        if department.pk is not None and current == department.pk:
            raise ValidationError({"parent": _("A department cannot be under itself.")})
        seen.add(current)
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()


def create_department(actor: User | None, values: Mapping[str, Any]) -> Department:
    require_setup_rights(actor)
    return save_checked(actor, Department(), values, allowed=DEPARTMENT_FIELDS, detail="department created")


def update_department(actor: User | None, department: Department, values: Mapping[str, Any]) -> Department:
    require_setup_rights(actor)
    if "parent" in values:
        _check_parent(department, values["parent"])
    return save_checked(actor, department, values, allowed=DEPARTMENT_FIELDS, detail="department changed")


def _members(ids: Iterable[int]) -> list[Agent]:
    wanted = sorted(set(ids))
    found = list(Agent.objects.filter(pk__in=wanted))
    missing = sorted(set(wanted) - {a.pk for a in found})
    if missing:
        raise ValidationError(
            {"members": _("No agent has the id %(ids)s.") % {"ids": ", ".join(str(m) for m in missing)}}
        )
    return found


def save_team(
    actor: User | None, team: Team | None, values: Mapping[str, Any], members: Iterable[int] | None = None
) -> Team:
    """Create (team None) or change a team; `members` (agent ids) replaces the members when given."""
    require_setup_rights(actor)
    agents = _members(members) if members is not None else None
    creating = team is None
    team = team or Team()
    before_members = sorted(team.members.values_list("pk", flat=True)) if not creating else []
    with transaction.atomic():
        save_checked(actor, team, values, allowed=TEAM_FIELDS, detail="team created" if creating else "team changed")
        if agents is not None:
            team.members.set(agents)
            after_members = sorted(a.pk for a in agents)
            if after_members != before_members:
                audit.record(
                    audit.Action.CHANGE,
                    actor=actor,
                    obj=team,
                    before={"members": before_members},
                    after={"members": after_members},
                    detail="team members",
                )
    return team
