"""The people directory in the workspace: end users and organisations, their tickets and notes,
editing them with the right to, importing people from CSV and exporting the directory.

Who may do what is the policy's (`can_read_directory`, `can_edit_person`,
`can_change_desk_setup`, `can_note_about`, `can_delete_directory_note`, `can_import_people`,
`can_export_directory`); changes go through `accounts.directory_services` and
`accounts.directory_import`, which check again and audit. Agents and administrators have a
read-only page here (a requester can be one): they are changed in the admin.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tessera.accounts import directory_export, directory_import, directory_services
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Organization, User
from tessera.customfields import views as customfield_views
from tessera.tickets import policy
from tessera.tickets.models import Ticket

from . import directory_selectors as selectors
from .access import agent_required
from .directory_forms import DirectorySearchForm, ImportForm, NoteForm, OrganizationForm, PersonForm


def _not_found(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    return render(request, "staff/not_found.html", {"message": message}, status=404)


def _require_directory(request: AuthenticatedHttpRequest) -> None:
    if not policy.can_read_directory(request.user):
        raise PermissionDenied(_("You may not read the people directory."))


def _form_errors(form: Form, exc: ValidationError) -> None:
    """A service's refusal shown at the fields it names (others at the top), as the admin would."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _search(request: AuthenticatedHttpRequest) -> tuple[str, str | None]:
    form = DirectorySearchForm(request.GET)
    if not form.is_valid():
        return "", None
    return form.cleaned_data["q"], form.cleaned_data["after"] or None


def _next_url(base: str, q: str, after: str | None, **extra: Any) -> str | None:
    if after is None:
        return None
    params = {k: v for k, v in {"q": q, **extra, "after": after}.items() if v not in ("", None)}
    return f"{base}?{urlencode(params)}" if params else base


# ---------------------------------------------------------------------------- people


@require_GET
@agent_required
def people(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    _require_directory(request)
    q, after = _search(request)
    org_id = request.GET.get("org", "")
    org = selectors.organization(int(org_id)) if org_id.isdecimal() and len(org_id) < 12 else None
    page = selectors.people(q=q, organization_id=org.pk if org else None, after=after)
    base = reverse("staff:people")
    context = {
        "q": q,
        "org": org,
        "page": page,
        "is_first_page": after is None,
        "next_url": _next_url(base, q, page.next_after, org=org.pk if org else None),
        "first_url": _next_url(base, q, "", org=org.pk if org else None) if after else None,
        "can_import": policy.can_import_people(request.user),
        "can_export": policy.can_export_directory(request.user),
    }
    return render(request, "staff/directory/people.html", context)


def _person_or_404(request: AuthenticatedHttpRequest, user_id: int) -> User | HttpResponse:
    _require_directory(request)
    found = selectors.person(user_id)
    if found is None:
        return _not_found(request, _("There is nobody with this number in the directory."))
    return found


def _tickets_panel(tickets: Sequence[Ticket], **queue_filter: int) -> dict[str, Any]:
    """The tickets a person's or an organisation's page shows (open first, as many as fit), and
    the link to all of them in the queue."""
    return {
        "tickets": tickets[: selectors.TICKETS_SHOWN],
        "more_tickets": len(tickets) > selectors.TICKETS_SHOWN,
        "all_tickets_url": reverse("staff:queue", args=["all"]) + "?" + urlencode(queue_filter),
    }


def _person_page(
    request: AuthenticatedHttpRequest,
    agent: Agent,
    person: User,
    *,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    is_staff = policy.is_desk_staff(person)
    context = {
        "person": person,
        "is_desk_staff": is_staff,
        **_tickets_panel(selectors.tickets_of_person(agent, person), user=person.pk),
        "notes": selectors.notes_about(user=person) if not is_staff else [],
        "note_form": note_form or NoteForm(),
        "can_edit": policy.can_edit_person(request.user, person),
        "can_note": policy.can_note_about(request.user, person),
        "viewer": request.user,
        # Answers to the user forms' custom fields (customfields/_person_values.html).
        **customfield_views.person_panel_context(request.user, person),
    }
    return render(request, "staff/directory/person.html", context, status=status)


@require_GET
@agent_required
def person(request: AuthenticatedHttpRequest, agent: Agent, user_id: int) -> HttpResponse:
    found = _person_or_404(request, user_id)
    if isinstance(found, HttpResponse):
        return found
    return _person_page(request, agent, found)


@require_http_methods(["GET", "POST"])
@agent_required
def person_edit(request: AuthenticatedHttpRequest, agent: Agent, user_id: int) -> HttpResponse:
    found = _person_or_404(request, user_id)
    if isinstance(found, HttpResponse):
        return found
    if not policy.can_edit_person(request.user, found):
        raise PermissionDenied(_("Agents and administrators are changed in the admin."))
    initial = {
        "name": found.name,
        "email": found.email,
        "organization": found.organization_id,
        "organization_manager": found.organization_manager,
        "phone": found.phone,
        "time_zone": found.time_zone,
    }
    form = PersonForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            directory_services.update_end_user(request.user, found, form.values())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": found.display_name})
            return redirect("staff:person", user_id=found.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/directory/person_edit.html", {"person": found, "form": form}, status=status)


@require_POST
@agent_required
def person_note(request: AuthenticatedHttpRequest, agent: Agent, user_id: int) -> HttpResponse:
    found = _person_or_404(request, user_id)
    if isinstance(found, HttpResponse):
        return found
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            directory_services.add_note(request.user, body=form.cleaned_data["body"], user=found)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Your note is added."))
            return redirect(reverse("staff:person", args=[found.pk]) + "#notes")
    return _person_page(request, agent, found, note_form=form, status=400)


@require_POST
@agent_required
def note_delete(request: AuthenticatedHttpRequest, agent: Agent, note_id: int) -> HttpResponse:
    _require_directory(request)
    found = selectors.note(note_id)
    if found is None:
        return _not_found(request, _("This note does not exist (any more)."))
    back = (
        reverse("staff:person", args=[found.user_id])
        if found.user_id is not None
        else reverse("staff:organisation", args=[found.organization_id])
    )
    directory_services.delete_note(request.user, found)  # PermissionDenied: 403
    messages.success(request, _("The note is deleted."))
    return redirect(back + "#notes")


# ---------------------------------------------------------------------------- import and export


@require_http_methods(["GET", "POST"])
@agent_required
def people_import(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Upload a file (GET shows the form), then see what importing it would do."""
    _require_directory(request)
    if not policy.can_import_people(request.user):
        raise PermissionDenied(_("You may not import people."))
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if request.method == "POST" and form.is_valid():
        plan = directory_import.prepare(request.user, form.cleaned_data["file"])
        status = 200 if plan.can_apply else 400
        counts = {step.value: plan.count(step) for step in directory_import.Step}
        context = {"plan": plan, "counts": counts, "form": ImportForm()}
        return render(request, "staff/directory/import_preview.html", context, status=status)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/directory/import.html", {"form": form}, status=status)


@require_POST
@agent_required
def people_import_confirm(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Apply exactly the previewed file, all of it or nothing."""
    _require_directory(request)
    if not policy.can_import_people(request.user):
        raise PermissionDenied(_("You may not import people."))
    try:
        plan = directory_import.apply(request.user, request.POST.get("token", ""))
    except directory_import.ImportRefused as exc:
        return render(request, "staff/directory/import.html", {"form": ImportForm(), "refusal": str(exc)}, status=400)
    created = plan.count(directory_import.Step.CREATE)
    updated = plan.count(directory_import.Step.UPDATE)
    messages.success(
        request,
        _("Imported: %(created)s new people, %(updated)s updated.") % {"created": created, "updated": updated},
    )
    return redirect("staff:people")


def _csv(lines: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@agent_required
def people_export(request: AuthenticatedHttpRequest, agent: Agent) -> StreamingHttpResponse:
    if not policy.can_export_directory(request.user):
        raise PermissionDenied(_("Only administrators export the directory."))
    return _csv(directory_export.user_lines(), "people")


@require_GET
@agent_required
def organisations_export(request: AuthenticatedHttpRequest, agent: Agent) -> StreamingHttpResponse:
    if not policy.can_export_directory(request.user):
        raise PermissionDenied(_("Only administrators export the directory."))
    return _csv(directory_export.organization_lines(), "organisations")


# ---------------------------------------------------------------------------- organisations


@require_GET
@agent_required
def organisations(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    _require_directory(request)
    q, after = _search(request)
    page = selectors.organizations(q=q, after=after)
    base = reverse("staff:organisations")
    context = {
        "q": q,
        "page": page,
        "is_first_page": after is None,
        "next_url": _next_url(base, q, page.next_after),
        "first_url": _next_url(base, q, "") if after else None,
        "can_create": policy.can_change_desk_setup(request.user),
        "can_export": policy.can_export_directory(request.user),
    }
    return render(request, "staff/directory/organisations.html", context)


def _organisation_or_404(request: AuthenticatedHttpRequest, org_id: int) -> Organization | HttpResponse:
    _require_directory(request)
    found = selectors.organization(org_id)
    if found is None:
        return _not_found(request, _("There is no organisation with this number."))
    return found


def _organisation_page(
    request: AuthenticatedHttpRequest,
    agent: Agent,
    org: Organization,
    *,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = selectors.members(org)
    context = {
        "org": org,
        "domains": sorted(d.domain for d in org.domains.all()),
        **_tickets_panel(selectors.tickets_of_organization(agent, org), org=org.pk),
        "members": members[: selectors.MEMBERS_SHOWN],
        "more_members": len(members) > selectors.MEMBERS_SHOWN,
        "notes": selectors.notes_about(org=org),
        "note_form": note_form or NoteForm(),
        "can_edit": policy.can_change_desk_setup(request.user),
        "can_note": policy.can_note_about(request.user, None),
        "viewer": request.user,
        # Answers to the organisation forms' custom fields (customfields/_person_values.html).
        **customfield_views.person_panel_context(request.user, org),
    }
    return render(request, "staff/directory/organisation.html", context, status=status)


@require_GET
@agent_required
def organisation(request: AuthenticatedHttpRequest, agent: Agent, org_id: int) -> HttpResponse:
    found = _organisation_or_404(request, org_id)
    if isinstance(found, HttpResponse):
        return found
    return _organisation_page(request, agent, found)


def _organisation_form(request: AuthenticatedHttpRequest, org: Organization | None) -> HttpResponse:
    if not policy.can_change_desk_setup(request.user):
        raise PermissionDenied(_("Only administrators create and change organisations."))
    initial: dict[str, Any] = {}
    if org is not None:
        initial = {
            "name": org.name,
            "domains": " ".join(sorted(d.domain for d in org.domains.all())),
            "account_manager": org.account_manager_id,
            "share_tickets": org.share_tickets,
        }
    form = OrganizationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if org is None:
                saved = directory_services.create_organization(request.user, form.values())
            else:
                saved = directory_services.update_organization(request.user, org, form.values())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return redirect("staff:organisation", org_id=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/directory/organisation_edit.html", {"org": org, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def organisation_create(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    _require_directory(request)
    return _organisation_form(request, None)


@require_http_methods(["GET", "POST"])
@agent_required
def organisation_edit(request: AuthenticatedHttpRequest, agent: Agent, org_id: int) -> HttpResponse:
    found = _organisation_or_404(request, org_id)
    if isinstance(found, HttpResponse):
        return found
    return _organisation_form(request, found)


@require_POST
@agent_required
def organisation_note(request: AuthenticatedHttpRequest, agent: Agent, org_id: int) -> HttpResponse:
    found = _organisation_or_404(request, org_id)
    if isinstance(found, HttpResponse):
        return found
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            directory_services.add_note(request.user, body=form.cleaned_data["body"], organization=found)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Your note is added."))
            return redirect(reverse("staff:organisation", args=[found.pk]) + "#notes")
    return _organisation_page(request, agent, found, note_form=form, status=400)
