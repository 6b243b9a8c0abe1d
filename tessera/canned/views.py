"""Canned responses in the workspace: the management pages (list, search, create, edit, delete,
a stored file) for agents with the right, and the reply box's picker (search and render for one
ticket, as JSON for static/js/canned.js).

A response or ticket the agent may not reach answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Department
from tessera.staff.access import agent_required
from tessera.tickets import attachments as attachment_store
from tessera.tickets import policy
from tessera.tickets import selectors as ticket_selectors
from tessera.tickets.models import Ticket

from . import selectors, services, variables
from .forms import CannedResponseForm
from .models import CannedAttachment, CannedResponse

PAGE_SIZE = 50
QUERY_MAX = 100


def _not_found(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/not_found.html",
        {"message": _("This canned response does not exist or is not one you manage.")},
        status=404,
    )


def _forbidden(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "canned/forbidden.html", status=403)


def _offered_departments(request: AuthenticatedHttpRequest) -> QuerySet[Department]:
    scope = policy.canned_scope(request.user)
    departments = Department.objects.order_by("name")
    return departments if scope.everything else departments.filter(pk__in=scope.department_ids)


def _context(request: AuthenticatedHttpRequest, **extra: Any) -> dict[str, Any]:
    return {"variable_rows": variables.help_rows(), "scope": policy.canned_scope(request.user), **extra}


# ---------------------------------------------------------------------------- management


@require_GET
@agent_required
def response_list(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    if not policy.canned_scope(request.user).any:
        return _forbidden(request)
    query = request.GET.get("q", "")[:QUERY_MAX]
    page = Paginator(selectors.management_list(request.user, query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "canned/list.html", _context(request, page=page, query=query))


def _edit(request: AuthenticatedHttpRequest, response: CannedResponse | None) -> HttpResponse:
    departments = _offered_departments(request)
    files = response.attachments.order_by("name", "pk") if response is not None else None
    template = "canned/form.html"
    if request.method != "POST":
        initial: dict[str, Any] = {"is_active": True}
        if response is not None:
            initial = {
                "title": response.title,
                "body": response.body,
                "departments": list(response.departments.all()),
                "is_active": response.is_active,
            }
        form = CannedResponseForm(initial=initial, departments=departments, files=files)
        return render(request, template, _context(request, form=form, response=response))
    form = CannedResponseForm(request.POST, request.FILES, departments=departments, files=files)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.save_response(
                request.user,
                response,
                title=data["title"],
                body=data["body"],
                departments=data["departments"],
                is_active=data["is_active"],
                uploads=attachment_store.from_uploaded_files(data["attachments"]),
                remove_files=[f.pk for f in data.get("remove_files") or ()],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied as exc:
            form.add_error("departments" if str(exc) else None, str(exc))
            status = 403
        else:
            messages.success(request, _("Canned response “%(title)s” saved.") % {"title": saved.title})
            return redirect("canned:list")
    if request.FILES:
        form.add_error("attachments", _("Attach your files again: files are not kept when a form comes back."))
    return render(request, template, _context(request, form=form, response=response), status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def response_create(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    if not policy.canned_scope(request.user).any:
        return _forbidden(request)
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
@agent_required
def response_edit(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    response = selectors.manageable_by_pk(request.user, pk)
    if response is None:
        return _not_found(request)
    return _edit(request, response)


@require_http_methods(["GET", "POST"])
@agent_required
def response_delete(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    response = selectors.manageable_by_pk(request.user, pk)
    if response is None:
        return _not_found(request)
    if request.method != "POST":
        return render(request, "canned/delete.html", {"response": response})
    title = response.title
    try:
        services.delete_response(request.user, response)
    except PermissionDenied:
        return _not_found(request)
    messages.success(request, _("Canned response “%(title)s” deleted.") % {"title": title})
    return redirect("canned:list")


@require_GET
@agent_required
def response_file(request: AuthenticatedHttpRequest, agent: Agent, file_id: int) -> HttpResponse | FileResponse:
    found = CannedAttachment.objects.filter(pk=file_id).only("response_id").first()
    if found is None or selectors.manageable_by_pk(request.user, found.response_id) is None:
        return _not_found(request)
    stored = CannedAttachment.objects.get(pk=file_id)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        return _not_found(request)
    # Always a download: a stored file is never shown inline from here.
    answer = FileResponse(handle, as_attachment=True, filename=stored.name, content_type="application/octet-stream")
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Cache-Control"] = "private, max-age=0"
    return answer


# ---------------------------------------------------------------------------- the reply box's picker


def _usable_ticket(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> Ticket:
    ticket = ticket_selectors.ticket_for_agent(agent, number)
    if ticket is None or not policy.can_use_canned(request.user, ticket):
        raise Http404(_("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number})
    return ticket


@require_GET
@agent_required
def picker_search(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> JsonResponse:
    """The responses usable on this ticket whose title or text holds ?q=, most used first."""
    ticket = _usable_ticket(request, agent, number)
    query = request.GET.get("q", "")[:QUERY_MAX]
    rows = selectors.search_for_ticket(ticket, query)
    return JsonResponse(
        {"results": [{"id": r.pk, "title": r.title, "excerpt": _excerpt(r.body)} for r in rows], "query": query}
    )


def _excerpt(body: str, length: int = 90) -> str:
    line = " ".join(body.split())
    return line if len(line) <= length else line[: length - 1] + "…"


@require_GET
@agent_required
def picker_render(request: AuthenticatedHttpRequest, agent: Agent, number: int, pk: int) -> JsonResponse:
    """One response filled in for this ticket: the text to insert, the same as the reply would
    show it (sanitised HTML, for the preview), and the files that will go with the reply."""
    ticket = _usable_ticket(request, agent, number)
    response = selectors.for_ticket(ticket, pk)
    if response is None:
        raise Http404(_("This canned response does not exist or is not shared with this ticket's department."))
    rendered = services.render_for(request.user, ticket, response)
    return JsonResponse(
        {
            "id": response.pk,
            "title": response.title,
            "text": rendered.text,
            "html": rendered.html,
            "files": [{"name": f.name, "size": filesizeformat(f.size)} for f in rendered.files],
        }
    )
