"""Queue pages: system and saved queues with filters, sorting, columns and keyset paging;
the sidebar counts fragment; the new-arrivals endpoint; saving, renaming, deleting and
sharing saved queues.

Thin adapters: `filters.QueueFilter` reads the query string, `tickets.selectors` and
`queue_selectors` read, `staff.services` changes saved queues.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Department, Team
from tessera.customfields import queue as custom_fields
from tessera.fast_html import owed_due
from tessera.tickets import policy, selectors
from tessera.tickets.models import Ticket

from . import queue_selectors
from . import services as queue_services
from .access import agent_required
from .filters import (
    COLUMN_SORT,
    COLUMNS,
    DATE_PARAMS,
    DEFAULT_SORT,
    DUE_CHOICES,
    FIELD_LABELS,
    SORT_OPTION_LABELS,
    SORTS,
    SOURCES,
    STATES,
    Cursor,
    QueueFilter,
    column_label,
    cursor_value,
    names_view,
    view_keys,
)
from .models import SavedQueue
from .views import _not_found

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SESSION_COLS = "queue_cols"


def _poll_seconds(key: str, default: int) -> int:
    return max(1, int(settings.TESSERA.get(key, default)))


# ---------------------------------------------------------------------------- the queue page


def _view_params_in(params: QueryDict) -> bool:
    return names_view(params)


def _pairs(params: QueryDict, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(key, value) for key in keys if key in params for value in params.getlist(key)]


class QueuePage:
    """Where a queue page's links point and which parameters they carry."""

    label: StrOrPromise  # a saved queue's name, or a system queue's (lazy) label

    def __init__(self, request: AuthenticatedHttpRequest, agent: Agent, *, slug: str, saved: SavedQueue | None) -> None:
        self.request, self.agent, self.saved = request, agent, saved
        self.slug = queue_selectors.base_queue(saved) if saved is not None else slug
        if saved is not None:
            self.url = reverse("staff:saved_queue", args=[saved.pk])
            self.label = saved.name
            self.key = f"saved-{saved.pk}"
        else:
            self.url = reverse("staff:queue", args=[slug])
            self.label = next(q.label for q in selectors.QUEUES if q.slug == slug)
            self.key = slug

    def params(self) -> QueryDict | dict[str, Any]:
        """The parameters in force: the request's, or on a saved queue its saved ones when the
        request names no filter, sort or columns (the paging cursor always comes from the request)."""
        get = self.request.GET
        if self.saved is None or _view_params_in(get):
            return get
        merged = dict(self.saved.params) if isinstance(self.saved.params, dict) else {}
        for key in ("before", "before_id"):
            if key in get:
                merged[key] = get.get(key)
        return merged

    def columns(self, qf: QueueFilter) -> tuple[str, ...]:
        remembered = self.request.session.get(SESSION_COLS)
        return qf.columns(remembered if isinstance(remembered, list) else None)

    def keep(self, qf: QueueFilter, cols: tuple[str, ...]) -> list[tuple[str, str]]:
        """What links carry besides the filters. A saved queue's links always name the sort and
        columns, so that removing its last filter does not fall back to the saved filters."""
        if self.saved is not None:
            return [("sort", qf.sort), ("cols", ",".join(cols))]
        return [("sort", qf.sort)] if qf.sort != DEFAULT_SORT else []

    def link(self, pairs: list[tuple[str, str]]) -> str:
        return f"{self.url}?{urlencode(pairs)}" if pairs else self.url


def _remember_columns(request: HttpRequest, qf: QueueFilter) -> None:
    if qf.cols is not None and request.session.get(SESSION_COLS) != list(qf.cols):
        request.session[SESSION_COLS] = list(qf.cols)


def _canonical_redirect(request: HttpRequest, page: QueuePage, qf: QueueFilter) -> HttpResponse | None:
    """After "Apply filters" (or "Clear filters") the address shows only what is in force, in
    a stable order, so it can be bookmarked and shared. Cursor parameters pass through."""
    get = request.GET
    cols = page.columns(qf)
    if "clear" in get:
        return HttpResponseRedirect(page.link(page.keep(qf, cols)))
    if not _view_params_in(get) or qf.errors:
        return None
    canonical = qf.filter_params() + page.keep(qf, cols)
    raw = _pairs(get, view_keys(get))
    if sorted(raw) == sorted(canonical):
        return None
    return HttpResponseRedirect(page.link(canonical + _pairs(get, ("before", "before_id"))))


def _header(qf: QueueFilter, page: QueuePage, name: str, label: Any, cols: tuple[str, ...]) -> dict[str, Any]:
    """A column header: a link that sorts by it (reversing the sort when already active)."""
    head: dict[str, Any] = {"name": name, "label": label, "href": None, "aria_sort": None}
    sort_name = COLUMN_SORT.get(name)
    if sort_name is None:
        return head
    if qf.sort.lstrip("-") == sort_name:
        head["aria_sort"] = "descending" if qf.descending else "ascending"
        target = sort_name if qf.descending else f"-{sort_name}"
    else:
        target = SORTS[sort_name].first + sort_name
    pairs = qf.filter_params()
    if page.saved is not None:
        pairs += [("sort", target), ("cols", ",".join(cols))]
    elif target != DEFAULT_SORT:
        pairs.append(("sort", target))
    head["href"] = page.link(pairs)
    return head


def _rows(tickets: list[Ticket], qf: QueueFilter, cols: tuple[str, ...] = ()) -> list[Ticket]:
    """Give each row its cursor (for paging and arrivals), whether it is overdue and its
    custom-field columns (one query for the page, none without such columns)."""
    now = timezone.now()
    cells = custom_fields.column_cells([t.pk for t in tickets], cols)
    for t in tickets:
        t.custom_cells = cells.get(t.pk, {})  # type: ignore[attr-defined]  # read by fast_html.render_rows
        # Read by the row renderer (fast_html.render_rows), beside the page's own annotation.
        t.cursor = cursor_value(getattr(t, "sort_value", None), qf.sort_key)  # type: ignore[attr-defined]
        owed = owed_due(t)[0]
        t.is_overdue = t.is_active and owed is not None and owed < now  # type: ignore[attr-defined]
    return tickets


def render_queue(
    request: AuthenticatedHttpRequest,
    agent: Agent,
    *,
    slug: str = "",
    saved: SavedQueue | None = None,
    lists: tuple[list[SavedQueue], list[SavedQueue]] | None = None,
    side: queue_selectors.Sidebar | None = None,
) -> HttpResponse:
    page = QueuePage(request, agent, slug=slug, saved=saved)
    choices = queue_selectors.filter_choices()
    qf = QueueFilter.from_params(page.params(), choices=choices)
    if saved is None:
        _remember_columns(request, qf)
    redirect_to = _canonical_redirect(request, page, qf)
    if redirect_to is not None:
        return redirect_to

    cols = page.columns(qf)
    keep = page.keep(qf, cols)
    tickets, has_more = selectors.queue_page(agent, page.slug, query=qf)
    _rows(tickets, qf, cols)
    link_pairs = qf.filter_params() + keep
    older_url = None
    if has_more and tickets:
        before, before_id = qf.cursor_of(tickets[-1])
        older_url = page.link([*link_pairs, ("before", before), ("before_id", before_id)])
    arrivals_url = None
    if qf.shows_arrivals:
        base = (
            reverse("staff:saved_queue_arrivals", args=[saved.pk])
            if saved is not None
            else reverse("staff:queue_arrivals", args=[page.slug])
        )
        arrivals_url = f"{base}?{urlencode([*qf.filter_params(), ('sort', qf.sort), ('cols', ','.join(cols))])}"

    if side is None:
        side = queue_selectors.sidebar(agent, lists)
    saved_params = {**qf.to_saved(cols), "queue": page.slug}
    context = {
        **side,
        "page": page,
        "queue": page,  # the label and url, as before
        "current_key": page.key,
        "queue_url": page.url,
        "tickets": tickets,
        "columns": [(c, column_label(c)) for c in cols],
        "headers": [
            _header(qf, page, c, label, cols) for c, label in _fixed_labels() + [(c, column_label(c)) for c in cols]
        ],
        "qf": qf,
        "choices": choices,
        "chips": qf.chips(keep),
        "clear_url": page.link(keep),
        "filter_errors": qf.errors,
        "is_first_page": qf.cursor is None,
        "older_url": older_url,
        "newest_url": page.link(link_pairs),
        "arrivals_url": arrivals_url,
        "arrivals_after": cursor_value(timezone.now(), SORTS["updated"]),
        "poll_seconds": _poll_seconds("QUEUE_POLL_SECONDS", 20),
        "counts_poll_seconds": _poll_seconds("COUNTS_POLL_SECONDS", 30),
        "sort_options": list(SORT_OPTION_LABELS.items()),
        "sort_label": SORT_OPTION_LABELS[qf.sort],
        "all_columns": list(COLUMNS.items()) + [(f.column, f.label) for f in custom_fields.ticket_fields().values()],
        "custom_filters": _custom_filter_controls(qf),
        "shown_columns": cols,
        "date_fields": [(key, FIELD_LABELS[key], qf.dates.get(key)) for key in DATE_PARAMS],
        "states": list(STATES.items()),
        "sources": list(SOURCES.items()),
        "due_choices": list(DUE_CHOICES.items()),
        # With filters or a sort applied, "Save as queue" sits in view; otherwise in the panel.
        "save_outside": saved is None and (qf.is_filtered or qf.sort != DEFAULT_SORT),
        "saved": saved,
        "saved_params": _hidden_pairs(saved_params),
        "can_edit": saved is not None and policy.can_edit_saved_queue(request.user, saved),
        "can_share": saved is not None and policy.can_share_saved_queues(request.user),
        "shared_departments": _shared_ids(saved, "shared_with_departments"),
        "shared_teams": _shared_ids(saved, "shared_with_teams"),
    }
    return render(request, "staff/queue.html", context)


def _custom_filter_controls(qf: QueueFilter) -> list[dict[str, Any]]:
    """The filter form's controls for custom ticket fields, with what is chosen now."""
    chosen = {spec.field.key: spec for spec in qf.custom}
    controls = []
    for found in custom_fields.filterable():
        spec = chosen.get(found.key)
        controls.append(
            {
                "field": found,
                "items": list(spec.items) if spec else [],
                "flag": spec.flag if spec else None,
                "low": custom_fields.bound_text(spec.low) if spec else "",
                "high": custom_fields.bound_text(spec.high) if spec else "",
            }
        )
    return controls


def _fixed_labels() -> list[tuple[str, Any]]:
    return [("number", SORTS["number"].label), ("subject", SORTS["subject"].label)]


def _shared_ids(saved: SavedQueue | None, relation: str) -> set[int]:
    # Only asked on a saved queue's page, for the sharing form: a fixed two queries.
    if saved is None:
        return set()
    return set(getattr(saved, relation).values_list("pk", flat=True))


def _hidden_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, v) for k, values in params.items() for v in (values if isinstance(values, list) else [values])]


@require_GET
@agent_required
def dashboard(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Start where the work is: your own tickets, or your departments' when you have none."""
    side = queue_selectors.sidebar(agent)
    slug = "mine" if side["counts"]["mine"] else "open"
    return render_queue(request, agent, slug=slug, side=side)


@require_GET
@agent_required
def queue(request: AuthenticatedHttpRequest, agent: Agent, slug: str) -> HttpResponse:
    if slug not in selectors.QUEUE_SLUGS:
        return _not_found(request, _("There is no queue called “%(slug)s”.") % {"slug": slug})
    return render_queue(request, agent, slug=slug)


def _saved_or_404(
    request: AuthenticatedHttpRequest, agent: Agent, pk: int
) -> tuple[SavedQueue | HttpResponse, tuple[list[SavedQueue], list[SavedQueue]]]:
    """The saved queue, or the 404 page when the agent has none by that number; with the
    sidebar's lists, read on the way."""
    lists = queue_selectors.saved_queues(agent)
    found = queue_selectors.saved_queue_for(agent, pk, lists)
    if found is None:
        return _not_found(request, _("There is no saved queue with that number among yours.")), lists
    return found, lists


@require_GET
@agent_required
def saved_queue(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    found, lists = _saved_or_404(request, agent, pk)
    if isinstance(found, HttpResponse):
        return found
    return render_queue(request, agent, saved=found, lists=lists)


# ---------------------------------------------------------------------------- live parts


def counts(request: HttpRequest) -> HttpResponse:
    """The sidebar's queue lists with fresh counts, for htmx to swap in every so often.

    A signed-out browser gets 286, which tells htmx to stop polling, instead of a sign-in page
    swapped into the sidebar."""
    user = request.user
    if request.method != "GET":
        return HttpResponse(status=405)
    agent = policy.workspace_agent(user)
    if agent is None:
        return HttpResponse(status=286)
    context = {**queue_selectors.sidebar(agent), "current_key": request.GET.get("current", "")}
    return render(request, "staff/_queue_nav.html", context)


def _arrivals(request: HttpRequest, agent: Agent, slug: str) -> HttpResponse:
    qf = QueueFilter.from_params(request.GET)
    if qf.sort not in ("-updated", "-created"):
        return HttpResponse(status=204)
    raw_id = request.GET.get("after_id", "")
    after = qf.read_cursor(request.GET.get("after", ""), raw_id if raw_id != "0" else "1")
    if after is None or after.value is None:
        return HttpResponse(status=204)
    if raw_id == "0":
        after = Cursor(after.value, 0)
    newer_than: Cursor = after  # bound here: mypy does not carry the check above into the class
    cols = qf.columns()

    class Newer:
        def page(self, qs: Any) -> Any:
            return qf.newer(qs, newer_than)

    tickets, _more = selectors.queue_page(agent, slug, query=Newer())
    if not tickets:
        return HttpResponse(status=204)
    _rows(tickets, qf, cols)
    context = {"tickets": tickets, "columns": [(c, column_label(c)) for c in cols], "arrived": True}
    return render(request, "staff/_queue_arrivals.html", context)


@require_GET
@agent_required
def queue_arrivals(request: AuthenticatedHttpRequest, agent: Agent, slug: str) -> HttpResponse:
    """Rows newer than the first one shown (queue, filters and sort from the query string;
    `after`/`after_id` the first row's cursor). 204 when nothing arrived."""
    if slug not in selectors.QUEUE_SLUGS:
        return HttpResponse(status=404)
    return _arrivals(request, agent, slug)


@require_GET
@agent_required
def saved_queue_arrivals(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    found = queue_selectors.saved_queue_for(agent, pk)
    if found is None:
        return HttpResponse(status=404)
    return _arrivals(request, agent, queue_selectors.base_queue(found))


# ---------------------------------------------------------------------------- saved queues


def _posted_params(request: HttpRequest) -> dict[str, Any]:
    """The filters, sort and columns posted from a queue page, normalised by QueueFilter."""
    post = request.POST
    qf = QueueFilter.from_params(post)
    params = qf.to_saved(qf.columns())
    params["queue"] = post.get("queue", "all")
    return params


def _back(request: HttpRequest, fallback: str) -> str:
    back = request.POST.get("next", "")
    if back.startswith("/staff/") and not back.startswith("//") and "\\" not in back:
        return back
    return fallback


def _problem(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc) or _("You cannot change this queue."))


@require_POST
@agent_required
def saved_queue_create(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    try:
        created = queue_services.create_saved_queue(
            request.user, name=request.POST.get("name", ""), params=_posted_params(request)
        )
    except (ValidationError, PermissionDenied) as exc:
        _problem(request, exc)
        return redirect(_back(request, reverse("staff:dashboard")))
    messages.success(request, _("Saved “%(name)s”. It is listed under My queues.") % {"name": created.name})
    return redirect("staff:saved_queue", pk=created.pk)


def _saved_action(
    *, then: str = "queue"
) -> Callable[[Callable[[AuthenticatedHttpRequest, SavedQueue], str]], Callable[[HttpRequest, int], HttpResponse]]:
    """POST-only, agent-only, and the saved queue must be one the agent sees (else 404). The
    wrapped function returns the success message; problems become flash errors."""

    def decorate(
        view: Callable[[AuthenticatedHttpRequest, SavedQueue], str],
    ) -> Callable[[HttpRequest, int], HttpResponse]:
        @require_POST
        @agent_required
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
            found, _lists = _saved_or_404(request, agent, pk)
            if isinstance(found, HttpResponse):
                return found
            url = reverse("staff:saved_queue", args=[found.pk])
            try:
                message = view(request, found)
            except (ValidationError, PermissionDenied) as exc:
                _problem(request, exc)
                return redirect(_back(request, url))
            messages.success(request, message)
            return redirect("staff:dashboard" if then == "dashboard" else url)

        return wrapper

    return decorate


@_saved_action()
def saved_queue_rename(request: AuthenticatedHttpRequest, saved: SavedQueue) -> str:
    renamed = queue_services.update_saved_queue(request.user, saved, name=request.POST.get("name", ""))
    return _("Queue renamed to “%(name)s”.") % {"name": renamed.name}


@_saved_action()
def saved_queue_update(request: AuthenticatedHttpRequest, saved: SavedQueue) -> str:
    """Keep the filters, sort and columns now on screen as this queue's own."""
    queue_services.update_saved_queue(request.user, saved, params=_posted_params(request))
    return _("“%(name)s” now keeps the filters shown.") % {"name": saved.name}


@_saved_action(then="dashboard")
def saved_queue_delete(request: AuthenticatedHttpRequest, saved: SavedQueue) -> str:
    queue_services.delete_saved_queue(request.user, saved)
    return _("Deleted the queue “%(name)s”.") % {"name": saved.name}


@_saved_action()
def saved_queue_share(request: AuthenticatedHttpRequest, saved: SavedQueue) -> str:
    def ids(key: str) -> list[int]:
        return [int(v) for v in request.POST.getlist(key) if v.isdecimal() and len(v) < 19]

    departments = list(Department.objects.filter(pk__in=ids("departments")))
    teams = list(Team.objects.filter(pk__in=ids("teams")))
    queue_services.share_saved_queue(request.user, saved, departments=departments, teams=teams)
    if not departments and not teams:
        return _("“%(name)s” is no longer shared.") % {"name": saved.name}
    names = ", ".join([d.name for d in departments] + [t.name for t in teams])
    return _("“%(name)s” is now shared with %(whom)s.") % {"name": saved.name, "whom": names}
