"""Queue filters, sorting, visible columns and the keyset cursor, read from a query string.

One object, `QueueFilter`, turns the shared filter parameters (the same on every queue page,
on saved queues and on the search page) into a validated description of what the agent asked
for. A value it cannot use never becomes a 500: it is left out and `errors` says why, in words
the page shows. `apply` narrows a ticket queryset; `page` orders it and cuts one keyset page
(never OFFSET) for any sort, with the cursor being (sort value, id).

Query parameters (the contract between the queue, search and bulk pages):

    status, state, priority, department   repeatable (ids; state names)
    team, assignee                        an id or "none"
    topic, org                            an id
    source                                a channel (web, email, api, phone, staff)
    user                                  a user id or an email address
    answered                              "yes" or "no"
    overdue                               "yes": a due time still owed has passed
    due                                   "hour" (falls due within the next hour), "today"
                                          (by the end of today, viewer's zone), "none" (nothing due)
    created_after … due_before            ISO dates (YYYY-MM-DD), inclusive, in the viewer's zone
    sort                                  number, subject, user, priority, status, assignee,
                                          created, updated, due; "-" first for descending
    cols                                  comma-separated visible columns (may repeat);
                                          cf_<key> shows a custom field
    cf_<key>, cfmin_<key>, cfmax_<key>    custom ticket fields (tessera/customfields/queue.py)
    before, before_id                     the keyset cursor: the last row's sort value and id
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.customfields import queue as custom
from tessera.customfields.queue import FieldFilter as CustomFilter
from tessera.tickets import selectors
from tessera.tickets.models import ACTIVE_STATES, Source, State, Ticket

DEFAULT_SORT = "-updated"
MAX_CURSOR_ID = 2**63 - 1
MAX_VALUES = 50  # per repeatable parameter: a hand-made URL with thousands of ids is not a filter


# ---------------------------------------------------------------------------- sorting


@dataclass(frozen=True)
class SortKey:
    """One way to sort. `first` is the direction a click on the column header starts with
    (newest first for times and numbers, A to Z for names, most urgent first for priority)."""

    name: str
    label: Promise
    kind: str  # "int", "text" or "datetime": how the cursor value is written and read
    nullable: bool = False
    first: str = ""  # "" ascending, "-" descending

    def expression(self) -> Any:
        if self.name == "user":
            # Users without a name are shown (and so sorted) by their email address.
            return Coalesce(NullIf(F("user__name"), Value("")), F("user__email"), output_field=CharField())
        if self.name == "assignee":
            return Coalesce(
                NullIf(F("assignee__user__name"), Value("")), F("assignee__user__email"), output_field=CharField()
            )
        return F(SORT_FIELDS[self.name])


SORT_FIELDS = {
    "number": "number",
    "subject": "subject",
    "priority": "priority__urgency",
    "status": "status__order",
    "created": "created_at",
    "updated": "updated_at",
    "due": "due_at",
}

SORTS: dict[str, SortKey] = {
    s.name: s
    for s in (
        SortKey("number", gettext_lazy("Number"), "int", first="-"),
        SortKey("subject", gettext_lazy("Subject"), "text"),
        SortKey("user", gettext_lazy("User"), "text"),
        SortKey("priority", gettext_lazy("Priority"), "int"),
        SortKey("status", gettext_lazy("Status"), "int"),
        SortKey("assignee", gettext_lazy("Assigned to"), "text", nullable=True),
        SortKey("created", gettext_lazy("Created"), "datetime", first="-"),
        SortKey("updated", gettext_lazy("Updated"), "datetime", first="-"),
        SortKey("due", gettext_lazy("Due"), "datetime", nullable=True),
    )
}

# What each sort option says in the "Sort by" select, ascending then descending.
SORT_OPTION_LABELS: dict[str, Promise] = {
    "number": gettext_lazy("Number, lowest first"),
    "-number": gettext_lazy("Number, highest first"),
    "subject": gettext_lazy("Subject, A to Z"),
    "-subject": gettext_lazy("Subject, Z to A"),
    "user": gettext_lazy("User, A to Z"),
    "-user": gettext_lazy("User, Z to A"),
    "priority": gettext_lazy("Priority, most urgent first"),
    "-priority": gettext_lazy("Priority, least urgent first"),
    "status": gettext_lazy("Status, in workflow order"),
    "-status": gettext_lazy("Status, in reverse workflow order"),
    "assignee": gettext_lazy("Assigned to, A to Z"),
    "-assignee": gettext_lazy("Assigned to, Z to A"),
    "created": gettext_lazy("Created, oldest first"),
    "-created": gettext_lazy("Created, newest first"),
    "updated": gettext_lazy("Updated, oldest first"),
    "-updated": gettext_lazy("Updated, newest first"),
    "due": gettext_lazy("Due, soonest first"),
    "-due": gettext_lazy("Due, latest first"),
}
# Sorts under which "newer tickets" arrive at the top of the first page.
ARRIVAL_SORTS = frozenset({"-updated", "-created"})

# ---------------------------------------------------------------------------- columns

COLUMNS: dict[str, Promise] = {
    "user": gettext_lazy("User"),
    "priority": gettext_lazy("Priority"),
    "status": gettext_lazy("Status"),
    "assignee": gettext_lazy("Assigned to"),
    "department": gettext_lazy("Department"),
    "topic": gettext_lazy("Topic"),
    "source": gettext_lazy("Source"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "due": gettext_lazy("Due"),
}
# Time left or overdue is on every row unless the agent takes it off (fast_html.due_element's short form).
DEFAULT_COLUMNS = ("user", "priority", "status", "assignee", "department", "updated", "due")
# Number and subject are always shown: they are how a row is recognised and opened.
FIXED_COLUMNS = ("number", "subject")
COLUMN_SORT = {"user": "user", "priority": "priority", "status": "status", "assignee": "assignee"}
COLUMN_SORT |= {"created": "created", "updated": "updated", "due": "due", "number": "number", "subject": "subject"}

# ---------------------------------------------------------------------------- parameters

REPEATABLE = ("status", "state", "priority", "department")
SINGLE = ("team", "assignee", "topic", "source", "org", "user", "answered", "overdue", "due")
DATE_PARAMS = ("created_after", "created_before", "updated_after", "updated_before", "due_after", "due_before")
FILTER_PARAMS = (*REPEATABLE, *SINGLE, *DATE_PARAMS)
# Everything that describes a queue view (a saved queue stores these; their presence in a
# request overrides what was saved).
VIEW_PARAMS = (*FILTER_PARAMS, "sort", "cols")
DATE_FIELDS = {"created": "created_at", "updated": "updated_at", "due": "due_at"}


def view_keys(params: Mapping[str, Any]) -> tuple[str, ...]:
    """VIEW_PARAMS plus the custom-field filters `params` names (their names carry the key)."""
    return (*VIEW_PARAMS, *custom.param_names(params))


def names_view(params: Mapping[str, Any]) -> bool:
    """Does `params` name a filter, the sort or the columns?"""
    return any(key in params for key in view_keys(params))


def column_label(name: str) -> Any:
    """A column's header: a built-in column's, or a custom field's label."""
    if name in COLUMNS:
        return COLUMNS[name]
    found = custom.column_field(name)
    return found.label if found is not None else name


FIELD_LABELS: dict[str, Promise] = {
    "status": gettext_lazy("Status"),
    "state": gettext_lazy("State"),
    "priority": gettext_lazy("Priority"),
    "department": gettext_lazy("Department"),
    "team": gettext_lazy("Team"),
    "assignee": gettext_lazy("Assigned agent"),
    "topic": gettext_lazy("Help topic"),
    "source": gettext_lazy("Channel"),
    "org": gettext_lazy("Organisation"),
    "user": gettext_lazy("Requester"),
    "answered": gettext_lazy("Answered"),
    "overdue": gettext_lazy("Overdue"),
    "due": gettext_lazy("Due"),
    "created_after": gettext_lazy("Created from"),
    "created_before": gettext_lazy("Created until"),
    "updated_after": gettext_lazy("Updated from"),
    "updated_before": gettext_lazy("Updated until"),
    "due_after": gettext_lazy("Due from"),
    "due_before": gettext_lazy("Due until"),
}


@dataclass(frozen=True)
class Choices:
    """The named things a filter can point at, for validation and for the form and chips.
    Lists of (id, name). Built by `queue_selectors.filter_choices` in a fixed number of queries."""

    statuses: Sequence[tuple[int, str]] = ()
    priorities: Sequence[tuple[int, str]] = ()
    departments: Sequence[tuple[int, str]] = ()
    teams: Sequence[tuple[int, str]] = ()
    agents: Sequence[tuple[int, str]] = ()
    topics: Sequence[tuple[int, str]] = ()
    orgs: Sequence[tuple[int, str]] = ()

    def names(self, param: str) -> dict[int, str]:
        cache: dict[str, dict[int, str]] = self.__dict__.setdefault("_names", {})
        if param not in cache:
            cache[param] = dict(getattr(self, CHOICE_LISTS[param]))
        return cache[param]


CHOICE_LISTS = {
    "status": "statuses",
    "priority": "priorities",
    "department": "departments",
    "team": "teams",
    "assignee": "agents",
    "topic": "topics",
    "org": "orgs",
}
STATES = {s.value: s.label for s in State}
# The "due" filter: when the next due time still owed (first response, else resolution) falls.
DUE_CHOICES: dict[str, Promise] = {
    "hour": gettext_lazy("within the next hour"),
    "today": gettext_lazy("by the end of today"),
    "none": gettext_lazy("nothing due"),
}
SOURCES = {s.value: s.label for s in Source}


@dataclass(frozen=True)
class Chip:
    """An active filter shown above the list, with the query string that removes it."""

    label: str
    remove_query: str


@dataclass(frozen=True)
class Cursor:
    value: Any  # None for a row whose sort value is NULL (unassigned, no due date)
    pk: int


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    """Every value of `key`, from a QueryDict or from a saved queue's JSON (str or list)."""
    if hasattr(params, "getlist"):
        raw: Iterable[Any] = params.getlist(key)
    else:
        got = params.get(key)
        raw = [] if got is None else got if isinstance(got, list | tuple) else [got]
    return [str(v).strip() for v in raw if v is not None and str(v).strip() != ""]


def _one(params: Mapping[str, Any], key: str) -> str:
    values = _values(params, key)
    return values[-1] if values else ""


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw[:10]) if len(raw) >= 10 else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the viewer's time zone (the middleware activates it)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@dataclass
class QueueFilter:
    """What the agent asked to see: filters, sort, columns and where the page starts."""

    statuses: list[int] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    priorities: list[int] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)
    team: int | Literal["none"] | None = None  # "none" for tickets without a team
    assignee: int | Literal["none"] | None = None  # "none" for unassigned tickets
    topic: int | None = None
    source: str | None = None
    org: int | None = None
    user: str | None = None  # an id (digits) or an email address
    answered: bool | None = None
    overdue: bool = False
    due: str | None = None  # a DUE_CHOICES key
    dates: dict[str, date] = field(default_factory=dict)  # "created_after" → date
    sort: str = DEFAULT_SORT
    cols: tuple[str, ...] | None = None  # None: not given (the caller falls back to a remembered choice)
    cursor: Cursor | None = None
    errors: list[str] = field(default_factory=list)
    choices: Choices | None = None
    custom: list[custom.FieldFilter] = field(default_factory=list)  # on custom ticket fields

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, choices: Choices | None = None) -> QueueFilter:
        """Read the shared query parameters. With `choices`, ids must name existing things;
        without (counts, arrivals), ids are only checked to be numbers."""
        f = cls(choices=choices)
        f._read_ids(params)
        f._read_single(params)
        for key in DATE_PARAMS:
            raw = _one(params, key)
            if not raw:
                continue
            day = _parse_date(raw)
            if day is None:
                f._problem(key, raw, _("that is not a date; write it as YYYY-MM-DD"))
            else:
                f.dates[key] = day
        f.custom, problems = custom.read(params, _values)
        f.errors += problems
        f._read_sort(params)
        f._read_cols(params)
        f.cursor = f._read_cursor(_one(params, "before") if "before" in params else None, _one(params, "before_id"))
        return f

    def _problem(self, key: str, raw: str, why: str) -> None:
        self.errors.append(
            _("%(field)s “%(value)s” was ignored: %(why)s.")
            % {"field": FIELD_LABELS[key], "value": raw[:80], "why": why}
        )

    def _known(self, key: str, pk: int) -> bool:
        return self.choices is None or pk in self.choices.names(key)

    def _read_ids(self, params: Mapping[str, Any]) -> None:
        for key, target in (("status", self.statuses), ("priority", self.priorities), ("department", self.departments)):
            for raw in self._split(params, key):
                pk = _as_id(raw)
                if pk is None or not self._known(key, pk):
                    self._problem(key, raw, _("there is no such choice"))
                elif pk not in target:
                    target.append(pk)
        for raw in self._split(params, "state"):
            if raw not in STATES:
                self._problem("state", raw, _("there is no such state"))
            elif raw not in self.states:
                self.states.append(raw)

    def _split(self, params: Mapping[str, Any], key: str) -> list[str]:
        values = [part.strip() for v in _values(params, key) for part in v.split(",") if part.strip()]
        if len(values) > MAX_VALUES:
            self.errors.append(
                _("Only the first %(n)d values of %(field)s were used.") % {"n": MAX_VALUES, "field": FIELD_LABELS[key]}
            )
        return values[:MAX_VALUES]

    def _read_single(self, params: Mapping[str, Any]) -> None:
        for key in ("team", "assignee"):
            raw = _one(params, key)
            if not raw:
                continue
            if raw == "none":
                setattr(self, key, "none")
                continue
            pk = _as_id(raw)
            if pk is None or not self._known(key, pk):
                self._problem(key, raw, _("there is no such choice"))
            else:
                setattr(self, key, pk)
        for key in ("topic", "org"):
            raw = _one(params, key)
            if raw:
                pk = _as_id(raw)
                if pk is None or not self._known(key, pk):
                    self._problem(key, raw, _("there is no such choice"))
                else:
                    setattr(self, key, pk)
        raw = _one(params, "source")
        if raw:
            if raw in SOURCES:
                self.source = raw
            else:
                self._problem("source", raw, _("there is no such channel"))
        raw = _one(params, "user")
        if raw:
            if _as_id(raw) is not None or ("@" in raw and len(raw) <= 254):
                self.user = raw.lower()
            else:
                self._problem("user", raw, _("give the requester's email address or user id"))
        raw = _one(params, "answered")
        if raw:
            if raw in ("yes", "no"):
                self.answered = raw == "yes"
            else:
                self._problem("answered", raw, _("use “yes” or “no”"))
        raw = _one(params, "overdue")
        if raw:
            if raw in ("yes", "on", "1"):
                self.overdue = True
            elif raw != "no":
                self._problem("overdue", raw, _("use “yes”"))
        raw = _one(params, "due")
        if raw:
            if raw in DUE_CHOICES:
                self.due = raw
            else:
                self._problem("due", raw, _("there is no such choice"))

    def _read_sort(self, params: Mapping[str, Any]) -> None:
        raw = _one(params, "sort")
        if not raw:
            return
        if (raw[1:] if raw.startswith("-") else raw) in SORTS:
            self.sort = raw
        else:
            message = _("“%(value)s” is not a way to sort; sorted by last update instead.")
            self.errors.append(message % {"value": raw[:80]})

    def _read_cols(self, params: Mapping[str, Any]) -> None:
        if "cols" not in params:
            return
        chosen: list[str] = []
        extra: list[str] = []
        for raw in self._split_cols(params):
            if raw in FIXED_COLUMNS:
                continue
            if custom.column_field(raw) is not None:
                if raw not in extra:
                    extra.append(raw)
            elif raw not in COLUMNS:
                self.errors.append(_("“%(value)s” is not a column; it was left out.") % {"value": raw[:80]})
            elif raw not in chosen:
                chosen.append(raw)
        # Shown in the order of the column list, whatever order they were ticked in; custom
        # fields after them, in the order chosen.
        self.cols = tuple(c for c in COLUMNS if c in chosen) + tuple(extra)

    @staticmethod
    def _split_cols(params: Mapping[str, Any]) -> list[str]:
        return [part.strip() for v in _values(params, "cols") for part in v.split(",") if part.strip()][:MAX_VALUES]

    def _read_cursor(self, raw_value: str | None, raw_id: str) -> Cursor | None:
        """A malformed cursor is not worth a message: the first page is shown instead."""
        if raw_value is None or not raw_id:
            return None
        pk = _as_id(raw_id)
        if pk is None:
            return None
        key = self.sort_key
        if raw_value == "":
            if key.nullable:
                return Cursor(None, pk)
            return Cursor("", pk) if key.kind == "text" else None
        try:
            if key.kind == "int":
                value: Any = int(raw_value)
                if abs(value) > MAX_CURSOR_ID:
                    return None
            elif key.kind == "datetime":
                # A hand-typed "+00:00" arrives as " 00:00".
                value = datetime.fromisoformat(raw_value.replace(" ", "+"))
                if value.tzinfo is None:
                    return None
                value = value.astimezone(UTC)
            else:
                value = raw_value[:1000]
                if "\x00" in value:
                    return None
        except (ValueError, OverflowError):
            return None
        return Cursor(value, pk)

    # ------------------------------------------------------------------ what it says

    @property
    def sort_key(self) -> SortKey:
        return SORTS[self.sort.lstrip("-")]

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def is_filtered(self) -> bool:
        return bool(self.filter_params())

    @property
    def shows_arrivals(self) -> bool:
        """New tickets can be shown arriving at the top only when the top is where they go."""
        return self.sort in ARRIVAL_SORTS and self.cursor is None

    def columns(self, fallback: Sequence[str] | None = None) -> tuple[str, ...]:
        if self.cols is not None:
            return self.cols
        if fallback is not None:
            valid = tuple(c for c in COLUMNS if c in fallback)
            return valid + tuple(c for c in fallback if custom.column_field(c) is not None)
        return DEFAULT_COLUMNS

    def filter_params(self) -> list[tuple[str, str]]:
        """The filters as query parameters, in a stable order (links, saved queues)."""
        out: list[tuple[str, str]] = []
        out += [("status", str(v)) for v in self.statuses]
        out += [("state", v) for v in self.states]
        out += [("priority", str(v)) for v in self.priorities]
        out += [("department", str(v)) for v in self.departments]
        for key in ("team", "assignee", "topic", "source", "org", "user"):
            value = getattr(self, key)
            if value is not None:
                out.append((key, str(value)))
        if self.answered is not None:
            out.append(("answered", "yes" if self.answered else "no"))
        if self.overdue:
            out.append(("overdue", "yes"))
        if self.due is not None:
            out.append(("due", self.due))
        out += [(key, self.dates[key].isoformat()) for key in DATE_PARAMS if key in self.dates]
        out += [pair for spec in self.custom for pair in spec.params()]
        return out

    def view_params(self, *, cols: Sequence[str] | None = None, sort: bool | None = None) -> list[tuple[str, str]]:
        """Filters plus sort (when not the default, or when `sort` forces it) plus `cols` when given."""
        out = self.filter_params()
        if sort or (sort is None and self.sort != DEFAULT_SORT):
            out.append(("sort", self.sort))
        if cols is not None:
            out.append(("cols", ",".join(cols)))
        return out

    def to_saved(self, cols: Sequence[str]) -> dict[str, Any]:
        """The JSON a saved queue keeps: repeatable parameters as lists, the rest as strings."""
        saved: dict[str, Any] = {}
        for key, value in self.filter_params():
            if key in REPEATABLE or custom.is_param(key):
                saved.setdefault(key, []).append(value)
            else:
                saved[key] = value
        saved["sort"] = self.sort
        saved["cols"] = ",".join(cols)
        return saved

    def chips(self, keep: Sequence[tuple[str, str]] = ()) -> list[Chip]:
        """One chip per active filter value; its link keeps the other filters and `keep`
        (the sort and columns, as the page's other links carry them)."""
        params = self.filter_params()
        chips = []
        for i, (key, value) in enumerate(params):
            rest = params[:i] + params[i + 1 :] + list(keep)
            if custom.is_param(key):
                spec = next(s for s in self.custom if (key, value) in s.params())
                chips.append(Chip(spec.describe(key, value), urlencode(rest)))
                continue
            chips.append(Chip(f"{FIELD_LABELS[key]}: {self._value_label(key, value)}", urlencode(rest)))
        return chips

    def _value_label(self, key: str, value: str) -> str:
        if key == "state":
            return str(STATES[value])
        if key == "source":
            return str(SOURCES[value])
        if key in ("team", "assignee") and value == "none":
            return _("none") if key == "team" else _("unassigned")
        if key == "answered":
            return _("yes") if value == "yes" else _("no")
        if key == "overdue":
            return _("yes")
        if key == "due":
            return str(DUE_CHOICES[value])
        if key in DATE_PARAMS:
            return date_format(self.dates[key], "SHORT_DATE_FORMAT")
        if key in CHOICE_LISTS and self.choices is not None:
            return self.choices.names(key).get(int(value), f"#{value}")
        return value

    # ------------------------------------------------------------------ querying

    def apply(self, qs: QuerySet[Ticket], *, joined: CustomFilter | None = None) -> QuerySet[Ticket]:
        """Narrow `qs` (already limited to what the agent may see) by the filters; `joined`, a
        custom filter the caller applies as a join instead (`_driving`), is left out."""
        if self.statuses:
            qs = qs.filter(status_id__in=self.statuses)
        if self.states:
            qs = qs.filter(state__in=self.states)
        if self.priorities:
            qs = qs.filter(priority_id__in=self.priorities)
        if self.departments:
            qs = qs.filter(department_id__in=self.departments)
        if self.team is not None:
            qs = qs.filter(team__isnull=True) if self.team == "none" else qs.filter(team_id=self.team)
        if self.assignee is not None:
            qs = (
                qs.filter(assignee_id=self.assignee)
                if isinstance(self.assignee, int)
                else qs.filter(assignee__isnull=True)
            )
        if self.topic is not None:
            qs = qs.filter(topic_id=self.topic)
        if self.source is not None:
            qs = qs.filter(source=self.source)
        if self.org is not None:
            qs = qs.filter(organization_id=self.org)
        if self.user is not None:
            qs = qs.filter(user_id=int(self.user)) if self.user.isdecimal() else qs.filter(user__email=self.user)
        if self.answered is not None:
            qs = qs.filter(is_answered=self.answered)
        if self.overdue:
            qs = qs.filter(selectors.overdue_q(timezone.now()), state__in=ACTIVE_STATES)
        if self.due is not None:
            qs = self._due(qs)
        for key, day in self.dates.items():
            column = DATE_FIELDS[key.split("_")[0]]
            if key.endswith("_after"):
                qs = qs.filter(**{f"{column}__gte": _start_of(day)})
            else:  # until the end of that day
                qs = qs.filter(**{f"{column}__lt": _start_of(day + timedelta(days=1))})
        for spec in self.custom:
            if spec is not joined:
                qs = qs.filter(spec.q())
        return qs

    def _due(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        now = timezone.now()
        if self.due == "none":
            owed = Q(first_response_at__isnull=True, first_response_due_at__isnull=False)
            return qs.filter(due_at__isnull=True).exclude(owed)
        if self.due == "hour":
            return qs.filter(selectors.breaching_q(now), state=State.OPEN)
        end = _start_of(timezone.localdate(now) + timedelta(days=1))
        return qs.filter(selectors.breaching_q(now, end - now) | selectors.overdue_q(now), state__in=ACTIVE_STATES)

    def ordered(self, qs: QuerySet[Ticket], *, joined: bool = False) -> QuerySet[Ticket]:
        """Order by the sort value then id, in one direction, NULLs last either way. `joined`:
        `qs` was joined to a driving filter's answer, whose copy of `updated_at` is the sort value."""
        key = self.sort_key
        qs = qs.annotate(sort_value=F(custom.SORT_KEY) if joined else key.expression())
        value = F("sort_value")
        if self.descending:
            order = value.desc(nulls_last=True) if key.nullable else value.desc()
            return qs.order_by(order, "-id")
        order = value.asc(nulls_last=True) if key.nullable else value.asc()
        return qs.order_by(order, "id")

    def _driving(self) -> CustomFilter | None:
        """The custom filter a page is read from, if any: sorted by last update, a filter on a
        single choice item is a join to that item's answers walked newest first (index
        cf_value_item_sort), so a rare item ("Office = Riga", 1 % of answers) costs a page what
        a common one does — the semi-join made PostgreSQL walk ~18,000 tickets of the queue for
        50 rows at a million tickets (bench/RESULTS.md). Same rows, same order, same cursors:
        the answer's copy of `updated_at` always equals the ticket's (customfields.sortkey)."""
        if self.sort_key.name != "updated":
            return None
        return next((spec for spec in self.custom if spec.drives), None)

    def filtered_and_ordered(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        """`ordered(apply(qs))`, read from a driving custom filter's side when there is one."""
        driving = self._driving()
        if driving is None:
            return self.ordered(self.apply(qs))
        return self.ordered(driving.join(self.apply(qs, joined=driving)), joined=True)

    def page(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        """Filtered, ordered and started after the cursor: slice it for one page."""
        qs = self.filtered_and_ordered(qs)
        if self.cursor is not None:
            qs = qs.filter(self._after(self.cursor))
        return qs

    def _after(self, cursor: Cursor) -> Q:
        op = "lt" if self.descending else "gt"
        if cursor.value is None:  # inside the NULL tail, which is ordered by id alone
            return Q(sort_value__isnull=True, **{f"id__{op}": cursor.pk})
        # Written as a bound plus the tie-break — value ≤ v AND (value < v OR id < pk) — rather
        # than (value < v) OR (value = v AND id < pk): the same rows, but PostgreSQL can start the
        # index scan at the cursor, so page 200 costs what page 1 costs (14.7 → 2.0 ms at 1M).
        q = Q(**{f"sort_value__{op}e": cursor.value}) & (
            Q(**{f"sort_value__{op}": cursor.value}) | Q(**{f"id__{op}": cursor.pk})
        )
        if self.sort_key.nullable:
            q |= Q(sort_value__isnull=True)
        return q

    def newer(self, qs: QuerySet[Ticket], cursor: Cursor) -> QuerySet[Ticket]:
        """Rows that would sort before `cursor` (the first row shown): new arrivals at the top."""
        qs = self.filtered_and_ordered(qs)
        op = "gt" if self.descending else "lt"
        return qs.filter(
            Q(**{f"sort_value__{op}": cursor.value}) | Q(sort_value=cursor.value, **{f"id__{op}": cursor.pk})
        )

    def cursor_of(self, ticket: Ticket) -> tuple[str, str]:
        """(before, before_id) for a row of a page made by `page` (it carries `sort_value`)."""
        sort_value = ticket.sort_value  # type: ignore[attr-defined]  # added by annotate() in page()
        return cursor_value(sort_value, self.sort_key), str(ticket.pk)

    def read_cursor(self, raw_value: str | None, raw_id: str) -> Cursor | None:
        return self._read_cursor(raw_value, raw_id)

    def with_sort(self, sort: str) -> QueueFilter:
        return replace(self, sort=sort, cursor=None, errors=[])


def cursor_value(value: Any, key: SortKey) -> str:
    if value is None:
        return ""
    if key.kind == "datetime":
        stamp: str = value.astimezone(UTC).isoformat()
        return stamp.replace("+00:00", "Z")
    return str(value)


def _as_id(raw: str) -> int | None:
    if not raw.isdecimal() or len(raw) > 18:
        return None
    pk = int(raw)
    return pk if 0 < pk <= MAX_CURSOR_ID else None
