"""Tickets, with subject and priority from their form answers (osTicket's `__cdata` cache can be
stale or missing), then the relations between them (merges, links), collaborators and
referrals. The thread and its files are `phases/threads.py`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, User
from tessera.search import index as search_index
from tessera.tickets.models import Priority, State, Status
from tessera.tickets.services import imported

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

SOURCES = {"web": "web", "email": "email", "phone": "phone", "api": "api", "other": "other"}
PLACEHOLDER_EMAIL = "osticket-missing-user@import.invalid"


def _placeholder_user() -> User:
    user = User.objects.filter(email=PLACEHOLDER_EMAIL).first()
    if user is None:
        user = User(email=PLACEHOLDER_EMAIL, name=_("Unknown requester (osTicket)"), is_active=False)
        user.set_unusable_password()
        user.save()
    return user


def tickets(ctx: Context) -> None:
    src = ctx.source
    where, params = ("1=1", [])
    if ctx.since is not None:
        where, params = ("updated >= %s OR lastupdate >= %s", [ctx.since, ctx.since])
    total = src.count("ticket", where, params)
    values: dict[int, dict[str, Row]] = {}
    threads: dict[int, Row] = {}
    users: dict[int, int] = {}
    orgs: dict[int, int | None] = {}
    agents = dict(Agent.objects.values_list("user_id", "pk"))
    statuses = {s.pk: s for s in Status.objects.all()}
    priorities = {p.pk: p for p in Priority.objects.all()}
    default_priority = next((p for p in priorities.values() if p.is_default), None) or min(
        priorities.values(), key=lambda p: abs(p.urgency - 3), default=None
    )
    fallback_dept = Department.objects.order_by("pk").first()
    highest = [0]
    taken: set[int] = set()

    def prepare(batch: list[Row]) -> None:
        values.clear()
        threads.clear()
        ids = [int(r["ticket_id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for row in src.all(
            f"SELECT e.object_id, f.name, v.value, v.value_id FROM {src.t('form_entry')} e "  # noqa: S608
            f"JOIN {src.t('form_entry_values')} v ON v.entry_id = e.id "
            f"JOIN {src.t('form_field')} f ON f.id = v.field_id "
            f"WHERE e.object_type = 'T' AND e.object_id IN ({marks}) ORDER BY e.id, f.sort",
            ids,
        ):
            values.setdefault(int(row["object_id"]), {}).setdefault(row["name"], row)
        for row in src.all(
            f"SELECT object_id, lastmessage, lastresponse FROM {src.t('thread')} "  # noqa: S608
            f"WHERE object_type = 'T' AND object_id IN ({marks})",
            ids,
        ):
            threads[int(row["object_id"])] = row
        users.clear()
        users.update(ctx.lookup("user", (r["user_id"] for r in batch)))
        taken.clear()
        wanted = [
            int(r["number"])
            for r in batch
            if str(r["number"] or "").strip().isdecimal() and 0 < int(r["number"]) < 10**18
        ]
        taken.update(imported.numbers_taken(wanted))
        orgs.clear()
        orgs.update(dict(User.objects.filter(pk__in=users.values()).values_list("pk", "organization_id")))

    def digest(row: Row) -> str:
        tid = int(row["ticket_id"])
        answers = {k: (v["value"], v["value_id"]) for k, v in values.get(tid, {}).items()}
        thread = threads.get(tid, {})
        return fingerprint(row, answers, thread.get("lastmessage"), thread.get("lastresponse"))

    def fields(row: Row) -> dict[str, Any]:
        tid = int(row["ticket_id"])
        answers = values.get(tid, {})
        subject = str((answers.get("subject") or {}).get("value") or "").strip()
        if not subject:
            subject = _("(no subject)")
            ctx.report.note("ticket", tid, _("no subject in its form answers"))
        user = users.get(int(row["user_id"] or 0))
        if user is None:
            user = _placeholder_user().pk
            ctx.report.note(
                "ticket", tid, _("user %(u)s missing: given a placeholder requester") % {"u": row["user_id"]}
            )
        status = statuses.get(ctx.map("ticket_status").get(int(row["status_id"] or 0)) or 0)
        if status is None:
            from tessera.tickets.services import default_status  # local import: beside its one use

            status = default_status(State.OPEN)
            ctx.report.note(
                "ticket", tid, _("status %(s)s unknown: set to %(n)s") % {"s": row["status_id"], "n": status.name}
            )
        dept = ctx.map("department").get(int(row["dept_id"] or 0))
        if dept is None:
            if fallback_dept is None:
                raise Skip(_("no department exists"))
            dept = fallback_dept.pk
            ctx.report.note(
                "ticket",
                tid,
                _("department %(d)s unknown: put in %(n)s") % {"d": row["dept_id"], "n": fallback_dept.name},
            )
        priority_id = ctx.map("ticket_priority").get(int((answers.get("priority") or {}).get("value_id") or 0))
        if priority_id is None:
            if default_priority is None:
                raise Skip(_("no priority exists"))
            priority_id = default_priority.pk
            if answers.get("priority"):
                ctx.report.note("ticket", tid, _("priority unknown: set to %(n)s") % {"n": default_priority.name})
        assignee_user = ctx.map("staff").get(int(row["staff_id"] or 0))
        closed = src.when(row["closed"])
        thread = threads.get(tid, {})
        manual_due = src.when(row["duedate"])
        return {
            "subject": subject[:255],
            "user_id": user,
            "organization_id": orgs.get(user),
            "department_id": dept,
            "topic_id": ctx.map("help_topic").get(int(row["topic_id"] or 0)),
            "priority_id": priority_id,
            "status_id": status.pk,
            "state": status.state,
            "assignee_id": agents.get(assignee_user) if assignee_user else None,
            "team_id": ctx.map("team").get(int(row["team_id"] or 0)),
            "source": SOURCES.get(str(row["source"] or "").lower(), "other"),
            "is_answered": bool(row["isanswered"]),
            "created_at": src.when(row["created"]),
            "updated_at": src.when(row["lastupdate"]) or src.when(row["updated"]) or src.when(row["created"]),
            "closed_at": closed if status.state in (State.CLOSED, State.ARCHIVED) else None,
            "resolved_at": closed if status.state == State.RESOLVED else None,
            "due_at": manual_due or src.when(row["est_duedate"]),
            "due_is_manual": manual_due is not None,
            "sla_plan_id": ctx.map("sla").get(int(row["sla_id"] or 0)),
            "last_message_at": src.when(thread.get("lastmessage")),
            "last_response_at": src.when(thread.get("lastresponse")),
        }

    def number(row: Row) -> int:
        raw = str(row["number"] or "").strip()
        if raw.isdecimal() and 0 < int(raw) < 10**18 and int(raw) not in taken:
            highest[0] = max(highest[0], int(raw))
            taken.add(int(raw))
            return int(raw)
        given = imported.free_number()
        taken.add(given)
        ctx.report.note(
            "ticket", row["ticket_id"], _("number %(o)s kept as a reference only; now %(n)s") % {"o": raw, "n": given}
        )
        return given

    def create(row: Row) -> int:
        data = fields(row)
        if data["created_at"] is None:
            raise Skip(_("no creation date"))
        return imported.import_ticket(number(row), data).pk

    def create_many(rows: list[Row]) -> list[int | Skip]:
        outcomes: list[int | Skip] = []
        ready: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            try:
                data = fields(row)
                if data["created_at"] is None:
                    raise Skip(_("no creation date"))
            except Skip as why:
                outcomes.append(why)
                continue
            outcomes.append(len(ready))  # replaced by the id below
            ready.append((number(row), data))
        made = imported.import_tickets(ready)
        return [o if isinstance(o, Skip) else made[o] for o in outcomes]

    def update(row: Row, target: int) -> None:
        data = fields(row)
        if data["created_at"] is None:
            raise Skip(_("no creation date"))
        imported.update_imported_ticket(target, data)

    def after(ids: list[int]) -> None:
        search_index.index_range(min(ids), max(ids))

    sync(
        ctx,
        "ticket",
        src.batches("ticket", "ticket_id", where=where, params=params),
        pk="ticket_id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
        digest=digest,
        after=after,
        create_many=create_many,
    )
    if highest[0]:
        imported.continue_numbering_after(highest[0])
    # Fold-in tables: their rows came over as the tickets' subject and priority.
    ctx.report.expect("ticket__cdata", src.count("ticket__cdata"))
    ctx.report.skip_all(
        "ticket__cdata", src.count("ticket__cdata"), _("a cache osTicket rebuilds from the form answers")
    )


def relations(ctx: Context) -> None:
    """Merge parents and links: a child with a parent (ticket_pid); the flag 8 marks a link."""
    src = ctx.source
    rows = src.all(
        f"SELECT ticket_id, ticket_pid, flags FROM {src.t('ticket')} WHERE ticket_pid IS NOT NULL AND ticket_pid > 0"  # noqa: S608
    )
    found = ctx.lookup("ticket", [r["ticket_id"] for r in rows] + [r["ticket_pid"] for r in rows])
    for row in rows:
        child, parent = found.get(int(row["ticket_id"])), found.get(int(row["ticket_pid"]))
        if not child or not parent:
            ctx.report.note(
                "ticket", row["ticket_id"], _("its parent ticket %(p)s is not here") % {"p": row["ticket_pid"]}
            )
        elif int(row["flags"] or 0) & 8:
            imported.import_link(child, parent)
        else:
            imported.import_merge(child, parent)


def collaborators(ctx: Context) -> None:
    src = ctx.source
    total = src.count("thread_collaborator")
    tickets_of: dict[int, int] = {}
    users: dict[int, int] = {}

    def prepare(batch: list[Row]) -> None:
        tickets_of.clear()
        tickets_of.update(_ticket_of_threads(ctx, [r["thread_id"] for r in batch]))
        users.clear()
        users.update(ctx.lookup("user", (r["user_id"] for r in batch)))

    def create(row: Row) -> int:
        ticket = tickets_of.get(int(row["thread_id"]))
        user = users.get(int(row["user_id"]))
        if ticket is None:
            raise Skip(_("its ticket was not imported"))
        if user is None:
            raise Skip(_("its user was not imported"))
        return imported.import_collaborator(
            ticket, user, src.when(row["created"]) or src.when(row["updated"]) or timezone.now()
        )

    sync(
        ctx,
        "thread_collaborator",
        src.batches("thread_collaborator", "id"),
        pk="id",
        total=total,
        create=create,
        prepare=prepare,
    )


def referrals(ctx: Context) -> None:
    src = ctx.source
    if not src.has("thread_referral"):
        return
    total = src.count("thread_referral")
    tickets_of: dict[int, int] = {}

    def prepare(batch: list[Row]) -> None:
        tickets_of.clear()
        tickets_of.update(_ticket_of_threads(ctx, [r["thread_id"] for r in batch]))

    def create(row: Row) -> int:
        ticket = tickets_of.get(int(row["thread_id"]))
        if ticket is None:
            raise Skip(_("its ticket was not imported"))
        if row["object_type"] != "S":
            raise Skip(_("referrals to a team or department have no Tessera equivalent"))
        user = ctx.map("staff").get(int(row["object_id"] or 0))
        agent = Agent.objects.filter(user_id=user).values_list("pk", flat=True).first() if user else None
        if agent is None:
            raise Skip(_("its agent was not imported"))
        return imported.import_referral(ticket, agent, src.when(row["created"]) or timezone.now())

    sync(
        ctx,
        "thread_referral",
        src.batches("thread_referral", "id"),
        pk="id",
        total=total,
        create=create,
        prepare=prepare,
    )


def _ticket_of_threads(ctx: Context, thread_ids: list[Any]) -> dict[int, int]:
    """Source thread id → Tessera ticket id, for the ticket threads among them."""
    src = ctx.source
    ids = sorted({int(t) for t in thread_ids if t})
    if not ids:
        return {}
    marks = ",".join(["%s"] * len(ids))
    rows = src.all(
        f"SELECT id, object_id FROM {src.t('thread')} WHERE object_type = 'T' AND id IN ({marks})",  # noqa: S608
        ids,
    )
    found = ctx.lookup("ticket", (r["object_id"] for r in rows))
    by_thread: defaultdict[int, int] = defaultdict(int)
    for row in rows:
        if int(row["object_id"]) in found:
            by_thread[int(row["id"])] = found[int(row["object_id"])]
    return dict(by_thread)
