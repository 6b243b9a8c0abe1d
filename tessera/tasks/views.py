"""The task pages of the agent workspace: the task queue and "My tasks", a new task (on a ticket
or on its own), a task's page and its action forms.

A thin adapter: reads through tasks.selectors, changes through tasks.services, "may they?" asked
of tickets.policy. A task the agent may not see answers 404 exactly like one that does not exist.
Changes redirect (POST/redirect/GET) with a flash message; a problem shows the page again with
the form as typed: 400 invalid, 403 refused, 409 stale.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.staff.access import agent_required
from tessera.tickets import policy
from tessera.tickets import selectors as ticket_selectors
from tessera.tickets.models import Ticket
from tessera.tickets.policy import TaskAction

from . import selectors, services
from .forms import AssignForm, EditForm, Lists, NoteForm, StateForm, TaskForm, TransferForm, VersionedForm
from .models import Task

QUEUE_LABELS = {"open": gettext_lazy("Open tasks"), "mine": gettext_lazy("My tasks")}

# action slug: (form class, the policy question, what a refusal says)
ACTIONS: dict[str, tuple[type[VersionedForm], TaskAction, Any]] = {
    "note": (NoteForm, TaskAction.NOTE, gettext_lazy("You cannot add notes to this task.")),
    "edit": (EditForm, TaskAction.EDIT, gettext_lazy("You cannot edit this task.")),
    "assign": (AssignForm, TaskAction.ASSIGN, gettext_lazy("You cannot assign this task.")),
    "transfer": (TransferForm, TaskAction.TRANSFER, gettext_lazy("You cannot transfer this task.")),
    "close": (StateForm, TaskAction.CLOSE, gettext_lazy("You cannot close this task.")),
    "reopen": (StateForm, TaskAction.REOPEN, gettext_lazy("You cannot reopen this task.")),
    "delete": (StateForm, TaskAction.DELETE, gettext_lazy("You cannot delete this task.")),
}


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "staff/not_found.html", {"message": message}, status=404)


def _task_missing(request: HttpRequest, number: int) -> HttpResponse:
    # One answer for "no such task" and "not yours to see".
    return _not_found(request, _("Task #%(number)s does not exist or is not one you can see.") % {"number": number})


def _lists(department_id: int | None) -> Lists:
    """The selects' choices, read once per page (the reference tables once per request)."""
    agents = ticket_selectors.agent_choices(department_id or 0)
    return Lists(agents, ticket_selectors.team_choices(), ticket_selectors.department_choices())


def _sidebar(current: str) -> dict[str, Any]:
    """The ticket queues without counts (htmx loads them), as on the search page."""
    return {"lazy_queues": ticket_selectors.QUEUES, "current_key": "", "current_task_queue": current}


# ---------------------------------------------------------------------------- queues


def _queue(request: AuthenticatedHttpRequest, agent: Agent, which: str) -> HttpResponse:
    cursor = request.GET.get("after", "")
    page = selectors.queue(agent, which, cursor)
    here = reverse("tasks:mine" if which == "mine" else "tasks:queue")
    context = {
        **_sidebar(which),
        "label": QUEUE_LABELS[which],
        "which": which,
        "tasks": page.tasks,
        "older_url": f"{here}?{urlencode({'after': page.next_cursor})}" if page.next_cursor else "",
        "newest_url": here if cursor else "",
        "can_create": policy.can_create_task(request.user),
    }
    return render(request, "tasks/queue.html", context)


@require_GET
@agent_required
def task_queue(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Open tasks of the agent's departments and teams, and those assigned to them."""
    return _queue(request, agent, "open")


@require_GET
@agent_required
def my_tasks(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Open tasks assigned to the agent or their teams."""
    return _queue(request, agent, "mine")


# ---------------------------------------------------------------------------- a new task


def _ticket_param(request: AuthenticatedHttpRequest) -> tuple[bool, int | None]:
    """(valid, ticket number) from ?ticket= (or the form's hidden ticket field)."""
    raw = (request.POST.get("ticket") or request.GET.get("ticket") or "").strip().lstrip("#")
    if not raw:
        return True, None
    if not raw.isdecimal() or len(raw) > 18:
        return False, None
    return True, int(raw)


@require_http_methods(["GET", "POST"])
@agent_required
def new_task(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    valid, number = _ticket_param(request)
    ticket: Ticket | None = None
    if not valid:
        return _not_found(request, _("There is no such ticket."))
    if number is not None:
        ticket = ticket_selectors.ticket_for_agent(agent, number)
        if ticket is None:
            return _not_found(
                request, _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}
            )
    user = request.user
    lists = _lists(ticket.department_id if ticket else None)
    form = TaskForm(request.POST or None, lists=lists, standalone=ticket is None)

    def page(status: int = 200, problems: list[str] | None = None) -> HttpResponse:
        context = {**_sidebar(""), "form": form, "ticket": ticket, "problems": problems or []}
        return render(request, "tasks/new.html", context, status=status)

    if not policy.can_create_task(user, ticket=ticket):
        refused = (
            _("You cannot create tasks on ticket %(ref)s.") % {"ref": ticket.reference}
            if ticket
            else _("You cannot create tasks.")
        )
        return page(403, [refused])
    if request.method != "POST":
        return page()
    if not form.is_valid():
        return page(400)
    data = form.cleaned_data
    try:
        task = services.create_task(
            user,
            title=data["title"],
            description=data["description"],
            ticket=ticket,
            department=data.get("department"),
            assignee=data.get("assignee"),
            team=data.get("team"),
            due_at=data.get("due_at"),
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return page(400)
    except PermissionDenied as exc:
        return page(403, [str(exc)])
    messages.success(request, _("Task %(ref)s created.") % {"ref": task.reference})
    return redirect("tasks:task", number=task.number)


def _add_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---------------------------------------------------------------------------- a task's page


def _render_task(
    request: AuthenticatedHttpRequest,
    task: Task,
    *,
    bound: tuple[str, VersionedForm] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    able = {slug: policy.can_task(user, question, task) for slug, (_form, question, _r) in ACTIONS.items()}
    needs_lists = able["assign"] or able["transfer"]
    lists = _lists(task.department_id) if needs_lists else Lists([], [], [])
    version = {"version": task.version}
    forms: dict[str, VersionedForm] = {
        "note": NoteForm(initial=version, prefix="note"),
        "edit": EditForm(
            initial={
                **version,
                "title": task.title,
                "description": task.description_text,
                "due_at": task.due_at,
            },
            prefix="edit",
        ),
        "assign": AssignForm(
            initial={**version, "assignee": task.assignee_id or "", "team": task.team_id or ""},
            prefix="assign",
            lists=lists,
        ),
        "transfer": TransferForm(initial={**version, "department": task.department_id}, prefix="transfer", lists=lists),
        "close": StateForm(initial=version, prefix="close"),
        "reopen": StateForm(initial=version, prefix="reopen"),
        "delete": StateForm(initial=version, prefix="delete"),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    context = {
        **_sidebar(""),
        "task": task,
        "thread": selectors.thread(task),
        "able": able,
        "forms": forms,
        "bound_action": bound[0] if bound else "",
        "problems": problems or [],
        "ticket_visible": task.ticket is not None and policy.can(user, policy.Action.VIEW, task.ticket),
    }
    return render(request, "tasks/task.html", context, status=status)


@require_GET
@agent_required
def task_page(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    task = selectors.task_for_agent(agent, number)
    if task is None:
        return _task_missing(request, number)
    return _render_task(request, task)


@require_POST
@agent_required
def task_action(request: AuthenticatedHttpRequest, agent: Agent, number: int, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        return _not_found(request, _("There is no such action on a task."))
    task = selectors.task_for_agent(agent, number)
    if task is None:
        return _task_missing(request, number)
    form_class, question, refused = spec
    user = request.user
    kwargs: dict[str, Any] = {"prefix": action}
    if form_class in (AssignForm, TransferForm):
        kwargs["lists"] = _lists(task.department_id)
    form = form_class(request.POST, **kwargs)

    def again(status: int, problems: list[str], *, keep: bool = True) -> HttpResponse:
        fresh = selectors.task_for_agent(agent, number)
        if fresh is None:
            for problem in problems:
                messages.error(request, problem)
            return redirect("tasks:queue")
        if keep:
            # The hidden version is the task's as it is now, so sending again after a 409 works.
            data = request.POST.copy()
            data[form.add_prefix("version")] = str(fresh.version)
            rebuilt = form_class(data, **kwargs)
            rebuilt._errors = form.errors  # type: ignore[attr-defined]  # shown as refused, not validated again
            return _render_task(request, fresh, bound=(action, rebuilt), problems=problems, status=status)
        return _render_task(request, fresh, problems=problems, status=status)

    if not policy.can_task(user, question, task):
        return again(403, [str(refused)], keep=False)
    if not form.is_valid():
        return again(400, [])
    if form.cleaned_data["version"] != task.version:
        return again(409, [_stale(task)])
    try:
        said = _perform(user, task, action, form.cleaned_data)
    except services.StaleTask as exc:
        return again(409, exc.messages)
    except ValidationError as exc:
        _add_errors(form, exc)
        return again(400, [])
    except PermissionDenied as exc:
        return again(403, [str(exc)], keep=False)
    messages.success(request, said)
    if action == "delete":
        if task.ticket is not None and policy.can(user, policy.Action.VIEW, task.ticket):
            return redirect("staff:ticket", number=task.ticket.number)
        return redirect("tasks:queue")
    if selectors.task_for_agent(agent, number) is None:
        messages.info(request, _("Task #%(number)s is no longer one you can see.") % {"number": number})
        return redirect("tasks:queue")
    return redirect("tasks:task", number=number)


def _stale(task: Task) -> str:
    return _("Task %(ref)s changed while you were working on it. Review it, then try again.") % {"ref": task.reference}


def _perform(user: Any, task: Task, action: str, data: dict[str, Any]) -> str:
    version = data["version"]
    if action == "note":
        services.add_task_note(user, task, note=data["note"], expected_version=version)
        return _("Note added.")
    if action == "edit":
        services.update_task(
            user,
            task,
            title=data["title"],
            description=data["description"],
            due_at=data["due_at"],
            expected_version=version,
        )
        return _("Task saved.")
    if action == "assign":
        agent, team = data.get("assignee"), data.get("team")
        services.assign_task(user, task, agent=agent, team=team, expected_version=version)
        if agent is None and team is None:
            return _("Nobody is assigned to the task now.")
        return _("Task assigned to %(who)s.") % {"who": services.assignment_label(agent, team)}
    if action == "transfer":
        services.transfer_task(user, task, department=data["department"], expected_version=version)
        return _("Task transferred to %(department)s.") % {"department": data["department"].name}
    if action == "close":
        services.close_task(user, task, expected_version=version)
        return _("Task %(ref)s closed.") % {"ref": task.reference}
    if action == "delete":
        services.delete_task(user, task, expected_version=version)
        return _("Task %(ref)s deleted.") % {"ref": task.reference}
    services.reopen_task(user, task, expected_version=version)
    return _("Task %(ref)s reopened.") % {"ref": task.reference}
