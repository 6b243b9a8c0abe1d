"""Tickets and everything written on them. State changes go through tickets.services only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.compiled_insert import CompiledInsert


class State(models.TextChoices):
    """The fixed lifecycle underneath the admin-defined statuses."""

    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


ACTIVE_STATES = (State.OPEN, State.PENDING)


class Source(models.TextChoices):
    WEB = "web", _("Web portal")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    STAFF = "staff", _("Agent")
    WALK_IN = "walk_in", _("Walk-in")
    OTHER = "other", _("Other")


class Priority(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    urgency = models.PositiveSmallIntegerField(_("urgency"), help_text=_("1 is the most urgent."))
    colour = models.CharField(_("colour"), max_length=7, default="#6b7280", help_text=_("Hex colour, e.g. #d92d20"))
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("priority")
        verbose_name_plural = _("priorities")
        ordering = ["urgency"]
        constraints = [models.UniqueConstraint(fields=["urgency"], name="priority_urgency_unique")]

    def __str__(self) -> str:
        return self.name


class Status(models.Model):
    """An admin-defined name on top of a lifecycle state ("Waiting on customer" → pending)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_default = models.BooleanField(
        _("default for its state"), default=False, help_text=_("Used when a ticket enters this state.")
    )
    # osTicket's "allow reopen" on a closed status, with a window: after it, the customer's
    # reply opens a new ticket linked to this one.
    allow_reopen = models.BooleanField(
        _("customers may reopen"),
        default=True,
        help_text=_("Whether the requester may reopen a ticket left in this status (resolved or closed)."),
    )
    reopen_days = models.PositiveSmallIntegerField(
        _("reopen within (days)"),
        null=True,
        blank=True,
        help_text=_("Days after closing during which the requester may reopen; empty means no limit."),
    )

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(is_default=True), name="status_default_per_state"
            )
        ]

    def __str__(self) -> str:
        return self.name


class HelpTopic(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="topics"
    )
    default_priority = models.ForeignKey(
        Priority, verbose_name=_("default priority"), null=True, blank=True, on_delete=models.SET_NULL
    )
    is_public = models.BooleanField(_("public"), default=True, help_text=_("End users can choose it on the portal."))
    is_active = models.BooleanField(_("active"), default=True)
    sla_plan = models.ForeignKey(
        "sla.SlaPlan",
        verbose_name=_("SLA plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Wins over the department's plan. Empty: the department's, else the desk default."),
    )

    class Meta:
        verbose_name = _("help topic")
        verbose_name_plural = _("help topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    """Named counters bumped inside the creating transaction (ticket numbers)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Ticket(CompiledInsert, models.Model):
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="tickets"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="tickets"
    )
    topic = models.ForeignKey(
        HelpTopic, verbose_name=_("help topic"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.ForeignKey(Priority, verbose_name=_("priority"), on_delete=models.PROTECT, related_name="+")
    status = models.ForeignKey(Status, verbose_name=_("status"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("assigned agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("assigned team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WEB)
    is_answered = models.BooleanField(_("answered"), default=False)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped on every change; forms carry it to detect stale edits."
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    last_response_at = models.DateTimeField(_("last response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Service levels (tessera.sla; kept by tessera/tickets/services/sla.py). due_at is the
    # resolution due: the plan's, or the agent's own date when due_is_manual.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    due_is_manual = models.BooleanField(_("due date set by an agent"), default=False)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    sla_plan = models.ForeignKey(
        "sla.SlaPlan", verbose_name=_("SLA plan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_plan_fixed = models.BooleanField(
        _("SLA plan chosen"), default=False, help_text="Chosen on the ticket: kept when the ticket moves."
    )
    # The clock runs only while the ticket is open: when it stopped, and the stops that ended
    # ([from, to] ISO pairs in UTC; wall-clock times, so a schedule change recounts them).
    sla_paused_at = models.DateTimeField(_("SLA clock stopped"), null=True, blank=True)
    sla_pauses = models.JSONField(default=list, blank=True)
    # The warning before each target falls due (start + the plan's warning share of the target,
    # in its business hours; kept by sla_refresh), and when the warning went out. The "warned"
    # and "breached" columns are also the claims that make each alert go out once however many
    # scans run (tessera/sla/breaches.py: UPDATE … WHERE warned IS NULL).
    first_response_warn_at = models.DateTimeField(_("first response warning"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution warning"), null=True, blank=True)
    first_response_warned_at = models.DateTimeField(_("first response warned"), null=True, blank=True)
    resolution_warned_at = models.DateTimeField(_("resolution warned"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["department", "state", "-updated_at", "-id"], name="ticket_dept_state_upd"),
            models.Index(fields=["assignee", "state", "-updated_at", "-id"], name="ticket_assignee_state_upd"),
            models.Index(fields=["team", "state", "-updated_at", "-id"], name="ticket_team_state_upd"),
            models.Index(fields=["user", "-created_at"], name="ticket_user_created"),
            models.Index(fields=["state", "due_at"], name="ticket_state_due"),
            # Measured at 1,000,000 tickets in bench/RESULTS.md ("Indexes needed").
            # Every queue in its default order (newest activity first), first and deep pages.
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            # Any queue sorted by creation time.
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            # Active queues sorted by due date.
            models.Index(
                fields=["due_at", "id"],
                name="ticket_active_due",
                condition=models.Q(state__in=["open", "pending", "resolved"]),
            ),
            # Sidebar counts: every column a queue or the visibility rule filters on, so each
            # capped COUNT is an index-only scan.
            models.Index(
                fields=["state", "department", "assignee", "team", "is_answered", "due_at", "id"],
                name="ticket_count_cover",
            ),
            # The SLA scan (tessera/sla/breaches.py): each of its four questions is a range scan
            # over the open tickets still waiting for that alert, however many tickets are closed.
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_sla_fr_breach",
                condition=models.Q(state="open", first_response_at__isnull=True, first_response_breached=False),
            ),
            models.Index(
                fields=["due_at"],
                name="ticket_sla_res_breach",
                condition=models.Q(state="open", resolution_breached=False),
            ),
            models.Index(
                fields=["first_response_warn_at"],
                name="ticket_sla_fr_warn",
                condition=models.Q(state="open", first_response_at__isnull=True, first_response_warned_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_warn_at"],
                name="ticket_sla_res_warn",
                condition=models.Q(state="open", resolution_warned_at__isnull=True),
            ),
            # The "Overdue" and "Breaching in the next hour" queues: the first response still due.
            models.Index(
                fields=["first_response_due_at", "id"],
                name="ticket_active_fr_due",
                condition=models.Q(state__in=["open", "pending"], first_response_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def reference(self) -> str:
        return f"#{self.number}"


class Referral(models.Model):
    """An agent who sent a ticket out of their department keeps following it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="referrals")
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="referrals")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [models.UniqueConstraint(fields=["ticket", "agent"], name="referral_unique")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.agent_id}"


class Collaborator(models.Model):
    """A user copied on a ticket: they see it on the portal and get its public replies."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("collaborator")
        verbose_name_plural = _("collaborators")
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="collaborator_unique")]

    def __str__(self) -> str:
        return f"{self.ticket_id} cc {self.user_id}"


class EntryKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    RESPONSE = "response", _("Response")
    NOTE = "note", _("Internal note")


class ThreadEntry(CompiledInsert, models.Model):
    """One thing written on a ticket. body_html is sanitised on the way in; body_text is its twin
    for search, email and anyone who wants plain text."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    body_html = models.TextField(_("body"))
    body_text = models.TextField(_("plain text"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("thread entry")
        verbose_name_plural = _("thread entries")
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="entry_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author_name}"

    @property
    def is_public(self) -> bool:
        return self.kind != EntryKind.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    # Content-addressed folders keep directories small and names unguessable.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Attachment(models.Model):
    entry = models.ForeignKey(ThreadEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=120)
    sha256 = models.CharField(max_length=64, db_index=True)
    # An email's inline image: the body refers to it as cid:<content_id>.
    content_id = models.CharField(_("Content-ID"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    CREATED = "created", _("created")
    ASSIGNED = "assigned", _("assigned")
    CLAIMED = "claimed", _("claimed")
    RELEASED = "released", _("released")
    TRANSFERRED = "transferred", _("transferred")
    PRIORITY = "priority", _("priority changed")
    STATUS = "status", _("status changed")
    REOPENED = "reopened", _("reopened")
    NOTE = "note", _("note added")
    REPLIED = "replied", _("replied")
    MESSAGE = "message", _("message received")
    COLLABORATOR_ADDED = "collab_added", _("collaborator added")
    COLLABORATOR_REMOVED = "collab_removed", _("collaborator removed")
    REFERRED = "referred", _("referred")
    MERGED = "merged", _("merged")
    LINKED = "linked", _("linked")
    UNLINKED = "unlinked", _("unlinked")
    AUTO_REPLY = "auto_reply", _("automatic reply received")
    BOUNCE = "bounce", _("email bounced")
    MAIL_REFUSED = "mail_refused", _("email refused")
    DELIVERY_FAILED = "delivery_failed", _("email not delivered")
    SLA_PLAN = "sla_plan", _("SLA plan changed")
    DUE_DATE = "due_date", _("due date changed")
    TOPIC = "topic", _("help topic changed")
    RULE_APPLIED = "rule_applied", _("routing rule applied")
    SLA_WARNING = "sla_warning", _("SLA target nearly due")
    SLA_BREACHED = "sla_breached", _("SLA target missed")
    INTAKE_WARNING = "intake_warning", _("part of the request not used")
    INTAKE_DETAILS = "intake_details", _("caller details recorded")
    # Tasks on the ticket (tessera.tasks), recorded by services/task_events.py.
    TASK_CREATED = "task_created", _("task created")
    TASK_UPDATED = "task_updated", _("task edited")
    TASK_ASSIGNED = "task_assigned", _("task assigned")
    TASK_TRANSFERRED = "task_transferred", _("task transferred")
    TASK_NOTE = "task_note", _("task note added")
    TASK_CLOSED = "task_closed", _("task closed")
    TASK_REOPENED = "task_reopened", _("task reopened")
    TASK_MOVED = "task_moved", _("task moved here")
    TASK_DELETED = "task_deleted", _("task deleted")
    FIELD_CHANGED = "field_changed", _("field changed")
    SATISFACTION = "satisfaction", _("satisfaction rated")


class Event(CompiledInsert, models.Model):
    """The timeline: who changed what on a ticket, from what to what."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    before = models.CharField(_("before"), max_length=255, blank=True)
    after = models.CharField(_("after"), max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_kind_display()}"


class TicketLink(models.Model):
    """Two tickets about related problems. Stored once per pair, lower id first."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    other = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "other"], name="ticketlink_unique"),
            models.CheckConstraint(condition=models.Q(ticket__lt=models.F("other")), name="ticketlink_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} ~ {self.other_id}"


class TicketLock(models.Model):
    """Who is writing a reply on a ticket right now, so others do not answer over them.

    One row per ticket; it expires by itself so a closed browser never blocks anyone."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="lock")
    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="ticket_locks")
    acquired_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket lock")
        verbose_name_plural = _("ticket locks")

    def __str__(self) -> str:
        return f"{self.ticket_id} locked by {self.agent_id}"


class AlertEvent(models.TextChoices):
    """What agents may be alerted about (osTicket's "Alerts and notices")."""

    NEW_TICKET = "new_ticket", _("New ticket")
    NEW_MESSAGE = "new_message", _("New message from the customer")
    INTERNAL_NOTE = "internal_note", _("Internal note")
    ASSIGNMENT = "assignment", _("Assignment")
    TRANSFER = "transfer", _("Transfer")
    WARNING = "sla_warning", _("SLA target nearly due (the plan's warning share of it has passed)")
    OVERDUE = "overdue", _("Overdue ticket (an SLA target was missed)")


# Today's behaviour, which the data migration writes and a missing row falls back to.
ALERT_DEFAULTS: dict[str, dict[str, bool]] = {
    AlertEvent.NEW_TICKET: {"assignee": False, "team": False, "department": True, "manager": False},
    AlertEvent.NEW_MESSAGE: {"assignee": True, "team": True, "department": True, "manager": False},
    AlertEvent.INTERNAL_NOTE: {"assignee": True, "team": False, "department": False, "manager": False},
    AlertEvent.ASSIGNMENT: {"assignee": True, "team": True, "department": False, "manager": False},
    AlertEvent.TRANSFER: {"assignee": False, "team": False, "department": True, "manager": False},
    # SLA alerts go to whoever handles the ticket: the assignee, else its team, else its department.
    AlertEvent.WARNING: {"assignee": True, "team": True, "department": True, "manager": False},
    AlertEvent.OVERDUE: {"assignee": True, "team": True, "department": True, "manager": True},
}


class AlertSetting(models.Model):
    """Which groups of agents hear about one kind of event: the administrator's choice, read
    by tessera.tickets.notifications. The agents who referred a ticket on always hear what
    its followers hear; the customer's own notices are not configured here."""

    event = models.CharField(_("event"), max_length=20, choices=AlertEvent.choices, unique=True)
    assignee = models.BooleanField(
        _("assigned agent"), default=False, help_text=_("The agent the ticket is assigned to (or assigned to now).")
    )
    team = models.BooleanField(
        _("team members"),
        default=False,
        help_text=_("The members of the ticket's team; for messages and notes only while no agent is assigned."),
    )
    department = models.BooleanField(
        _("department's agents"),
        default=False,
        help_text=_(
            "Every agent of the ticket's department; for messages and notes only while neither an agent "
            "nor a team is assigned."
        ),
    )
    manager = models.BooleanField(
        _("department manager"), default=False, help_text=_("The manager set on the ticket's department.")
    )

    class Meta:
        verbose_name = _("alert setting")
        verbose_name_plural = _("alerts and notices")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(self.get_event_display())
