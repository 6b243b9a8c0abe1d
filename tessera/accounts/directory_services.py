"""Changes to the desk's directory made outside the admin (the REST API and the workspace's
people pages): end users, organisations and their email domains, notes about either,
departments and teams.

`actor` is the person the change is made for, or None for a system integration that its adapter
has already let in (an API key limited by its scopes alone). Every change is validated by the
model's own rules (`full_clean`: lengths, choices, validators, unique names, foreign keys that
exist) so the API and the admin refuse the same things, and is recorded in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tessera.audit import services as audit
from tessera.single_line import single_line
from tessera.tickets import policy

from . import phone
from .models import (
    Agent,
    Department,
    DirectoryNote,
    Organization,
    OrganizationDomain,
    Team,
    User,
    validate_email_domain,
)
from .services import _time_zones, organization_for_email

USER_FIELDS = ("email", "name", "organization", "organization_manager", "time_zone", "phone")
ORGANIZATION_FIELDS = ("name", "account_manager", "share_tickets")
NOTE_MAX_LENGTH = 4000
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
        # A person's name goes into mail headers: one line, never an encoded word (tessera.single_line).
        cleaned["name"] = single_line(str(cleaned["name"] or "")).strip()
    if cleaned.get("time_zone") and cleaned["time_zone"] not in _time_zones():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if "phone" in cleaned:
        number = single_line(str(cleaned["phone"] or "")).strip()
        if number and not phone.is_phone(number):
            errors["phone"] = str(phone.PHONE.message)
        cleaned["phone"] = number
    _clean_manager(cleaned, person, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_manager(cleaned: dict[str, Any], person: User | None, errors: dict[str, str]) -> None:
    """An organisation's manager sees its tickets on the Help Center (policy.sees_organisation_tickets),
    so the flag means nothing without an organisation: asking for it then is refused at the field,
    and a person left without one (the same change may clear it) silently stops being a manager,
    so that joining an organisation later never grants its tickets unasked."""
    if "organization_manager" in cleaned:
        if cleaned["organization_manager"] is None:  # the API's null: keep it
            del cleaned["organization_manager"]
        else:
            cleaned["organization_manager"] = bool(cleaned["organization_manager"])
    organization = cleaned.get("organization", person.organization_id if person is not None else None)
    if organization:
        return
    if cleaned.get("organization_manager"):
        errors["organization_manager"] = _("Only a member of an organisation can be its manager. Choose one first.")
    elif person is not None and person.organization_manager:
        cleaned["organization_manager"] = False


def create_end_user(actor: User | None, values: Mapping[str, Any]) -> User:
    """A new end user, without a password (they sign in by resetting it, like a user made by mail)."""
    _check_person(actor, None)
    if not values.get("email"):
        raise ValidationError({"email": _("This field is required.")})
    values = dict(values)
    if not values.get("organization"):
        # No organisation chosen: the one that claims the address's domain, as for every new user
        # (placed before the checks, so that its manager may be named in the same call).
        placed = organization_for_email(str(values["email"]).strip().lower())
        if placed is not None:
            values["organization"] = placed.pk
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


def _split_organization_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """The organisation's own fields, and its email domains when they are to change (None: keep
    them). `domains` is a list or text split at commas, semicolons and spaces; `domain` (one
    domain, the REST API's older field) replaces them all with that one, or clears them when empty."""
    cleaned = dict(values)
    domains: list[str] | None = None
    if "domain" in cleaned:
        one = str(cleaned.pop("domain") or "").strip()
        domains = [one] if one else []
    if "domains" in cleaned:
        raw = cleaned.pop("domains")
        items = re.split(r"[\s,;]+", raw) if isinstance(raw, str) else list(raw or [])
        domains = [str(item) for item in items]
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
    if "share_tickets" in cleaned:
        if cleaned["share_tickets"] is None:
            del cleaned["share_tickets"]
        else:
            cleaned["share_tickets"] = bool(cleaned["share_tickets"])
    return cleaned, domains


def _clean_domains(organization: Organization, domains: Iterable[str]) -> list[str]:
    wanted: list[str] = []
    errors: list[str] = []
    for raw in domains:
        domain = raw.strip().lstrip("@").strip().lower()
        if not domain or domain in wanted:
            continue
        try:
            validate_email_domain(domain)
        except ValidationError:
            errors.append(_("“%(domain)s” is not an email domain such as example.com.") % {"domain": domain[:80]})
            continue
        wanted.append(domain)
    taken = OrganizationDomain.objects.filter(domain__in=wanted).select_related("organization")
    if organization.pk is not None:
        taken = taken.exclude(organization_id=organization.pk)
    errors += [
        _("%(domain)s already belongs to %(organisation)s.") % {"domain": d.domain, "organisation": d.organization.name}
        for d in taken
    ]
    if errors:
        raise ValidationError({"domains": errors})
    return sorted(wanted)


def _set_domains(actor: User | None, organization: Organization, domains: list[str]) -> None:
    before = sorted(organization.domains.values_list("domain", flat=True))
    if before == domains:
        return
    organization.domains.exclude(domain__in=domains).delete()
    OrganizationDomain.objects.bulk_create(
        [OrganizationDomain(organization=organization, domain=d) for d in domains if d not in before]
    )
    audit.record(
        audit.Action.CHANGE,
        actor=actor,
        obj=organization,
        before={"domains": before},
        after={"domains": domains},
        detail="organisation domains",
    )


def _save_organization(
    actor: User | None, organization: Organization, values: Mapping[str, Any], *, detail: str
) -> Organization:
    _check_organization_rights(actor)
    cleaned, domains = _split_organization_values(values)
    wanted = _clean_domains(organization, domains) if domains is not None else None
    try:
        with transaction.atomic():
            save_checked(actor, organization, cleaned, allowed=ORGANIZATION_FIELDS, detail=detail)
            if wanted is not None:
                _set_domains(actor, organization, wanted)
    except IntegrityError:
        # Another organisation took one of the domains between the check and the save.
        raise ValidationError({"domains": _("Another change took one of these domains; try again.")}) from None
    return organization


def create_organization(actor: User | None, values: Mapping[str, Any]) -> Organization:
    return _save_organization(actor, Organization(), values, detail="organisation created")


def update_organization(actor: User | None, organization: Organization, values: Mapping[str, Any]) -> Organization:
    return _save_organization(actor, organization, values, detail="organisation changed")


# ---------------------------------------------------------------------------- notes about people


def add_note(
    actor: User, *, body: str, user: User | None = None, organization: Organization | None = None
) -> DirectoryNote:
    """Write down something about an end user or an organisation (exactly one), for agents."""
    if (user is None) == (organization is None):
        raise ValueError("A note is about one user or one organisation.")
    if not policy.can_note_about(actor, user):
        raise PermissionDenied(_("You may not write notes about this person."))
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": _("Write the note first.")})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _("Keep the note under %(count)s characters.")
                % {"count": number_format(NOTE_MAX_LENGTH, force_grouping=True)}
            }
        )
    with transaction.atomic():
        note = DirectoryNote.objects.create(user=user, organization=organization, author=actor, body=text)
        audit.record(
            audit.Action.CHANGE, actor=actor, obj=user or organization, after={"note": text}, detail="note added"
        )
    return note


def delete_note(actor: User, note: DirectoryNote) -> None:
    if not policy.can_delete_directory_note(actor, note):
        raise PermissionDenied(_("Only the note's author or an administrator may delete it."))
    about = note.user or note.organization
    with transaction.atomic():
        audit.record(audit.Action.CHANGE, actor=actor, obj=about, before={"note": note.body}, detail="note deleted")
        note.delete()


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
