"""osTicket's tasks (1.10+): on a ticket or on their own, with their title from the task form,
department, assignee, team, due date, open or closed. Their thread entries come over with the
other entries (phases/threads.py) as task notes."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent
from tessera.tasks.models import Task, TaskState
from tessera.tickets.services import imported, next_counter_value

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

OPEN_FLAG = 1  # osTicket's TaskModel::ISOPEN
TASK_COUNTER = "task"


def tasks(ctx: Context) -> None:
    src = ctx.source
    if not src.has("task"):
        return
    total = src.count("task")
    titles: dict[int, str] = {}
    tickets: dict[int, int] = {}

    def prepare(batch: list[Row]) -> None:
        titles.clear()
        ids = [int(r["id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for row in src.all(
            f"SELECT e.object_id, v.value FROM {src.t('form_entry')} e "  # noqa: S608  table names are ours
            f"JOIN {src.t('form_entry_values')} v ON v.entry_id = e.id "
            f"JOIN {src.t('form_field')} f ON f.id = v.field_id "
            f"WHERE e.object_type = 'A' AND f.name = 'title' AND e.object_id IN ({marks})",
            ids,
        ):
            titles[int(row["object_id"])] = str(row["value"] or "")
        tickets.clear()
        tickets.update(ctx.lookup("ticket", (r["object_id"] for r in batch if r["object_type"] == "T")))

    def digest(row: Row) -> str:
        return fingerprint(row, titles.get(int(row["id"])))

    def fill(task: Task, row: Row) -> None:
        dept = ctx.map("department").get(int(row["dept_id"] or 0))
        if dept is None:
            raise Skip(_("its department %(d)s was not imported") % {"d": row["dept_id"]})
        task.title = (titles.get(int(row["id"])) or _("Task %(n)s") % {"n": row["number"]})[:255]
        task.department_id = dept
        task.ticket_id = tickets.get(int(row["object_id"] or 0)) if row["object_type"] == "T" else None
        if row["object_type"] == "T" and task.ticket_id is None:
            ctx.report.note(
                "task", row["id"], _("its ticket %(t)s was not imported: kept on its own") % {"t": row["object_id"]}
            )
        user = ctx.map("staff").get(int(row["staff_id"] or 0))
        task.assignee_id = Agent.objects.filter(user_id=user).values_list("pk", flat=True).first() if user else None
        task.team_id = ctx.map("team").get(int(row["team_id"] or 0))
        task.due_at = src.when(row["duedate"])
        is_open = bool(int(row["flags"] or 0) & OPEN_FLAG)
        task.state = TaskState.OPEN if is_open else TaskState.CLOSED
        task.closed_at = None if is_open else (src.when(row["closed"]) or src.when(row["updated"]))
        task.created_at = src.when(row["created"]) or timezone.now()
        task.updated_at = src.when(row["updated"]) or task.created_at
        task.save()

    def create(row: Row) -> int:
        raw = str(row["number"] or "").strip()
        number = int(raw) if raw.isdecimal() and 0 < int(raw) < 10**18 else 0
        if not number or Task.objects.filter(number=number).exists():
            number = next_counter_value(TASK_COUNTER, 1)
            ctx.report.note(
                "task", row["id"], _("number %(o)s kept as a reference only; now %(n)s") % {"o": raw, "n": number}
            )
        task = Task(number=number)
        fill(task, row)
        return task.pk

    def update(row: Row, target: int) -> None:
        task = Task.objects.filter(pk=target).first()
        if task is None:
            raise Skip(_("the task was deleted in Tessera"))
        fill(task, row)

    ctx.map("task")
    sync(
        ctx,
        "task",
        src.batches("task", "id"),
        pk="id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
        digest=digest,
    )
    highest = Task.objects.order_by("-number").values_list("number", flat=True).first() or 0
    imported.continue_numbering_after(highest, counter=TASK_COUNTER, first=1)
