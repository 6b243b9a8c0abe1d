"""Email in and out: every message received, kept raw before anything else happens to it; the
IMAP mailboxes polled; the senders refused; every notification sent and what became of it; the
administrators' own wording of the notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PIPE = "pipe", _("MTA pipe")
    IMAP = "imap", _("IMAP mailbox")
    API = "api", _("API")
    LMTP = "lmtp", _("LMTP")


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    TICKET = "ticket", _("Opened a ticket")
    REPLY = "reply", _("Added to a ticket")
    EVENT = "event", _("Recorded on a ticket")  # automatic replies and bounces: never answered
    REJECTED = "rejected", _("Kept, not posted")


class Security(models.TextChoices):
    TLS = "tls", _("TLS (IMAPS, usually port 993)")
    STARTTLS = "starttls", _("STARTTLS (usually port 143)")
    PLAIN = "plain", _("None (only on a trusted network)")


class Mailbox(models.Model):
    """An IMAP mailbox Tessera polls. Mail found there lands in its department (and help topic)
    unless it answers an existing ticket."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.EmailField(_("address"), help_text=_("The address customers write to."))
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("security"), max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(_("user name"), max_length=255)
    password = models.CharField(_("password"), max_length=255, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    archive_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty to mark processed mail as seen and leave it where it is."),
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="mailboxes"
    )
    topic = models.ForeignKey(
        "tickets.HelpTopic",
        verbose_name=_("help topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundMessage(models.Model):
    """One message as it arrived, stored before it is parsed so that nothing is ever lost, and
    what became of it. `dedupe_key` makes a second delivery of the same message a no-op:
    "mid:<Message-ID>", or "sha256:<hash of the bytes>" for mail without a Message-ID."""

    dedupe_key = models.CharField(max_length=300)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    sender = models.CharField(_("sender"), max_length=254, blank=True)  # lower-cased From address
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices, default=InboundStatus.PENDING)
    reason = models.TextField(_("what happened"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    entry = models.ForeignKey(
        "tickets.ThreadEntry",
        verbose_name=_("thread entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        # Declared here rather than with unique=True/db_index=True, which on PostgreSQL add a
        # second, LIKE-only index per column: every message is inserted and then updated, and
        # each index is written each time.
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="inbound_dedupe_key_unique")]
        indexes = [
            models.Index(fields=["sender", "received_at"], name="inbound_sender_time"),
            models.Index(fields=["message_id"], name="inbound_message_id"),
            models.Index(fields=["status", "received_at"], name="inbound_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"


class BannedSender(models.Model):
    """Mail from these addresses or domains is kept with the reason and never posted."""

    pattern = models.CharField(
        _("address or domain"),
        max_length=254,
        unique=True,
        help_text=_("A full address (spam@example.com) or a whole domain (example.com)."),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("banned sender")
        verbose_name_plural = _("banned senders")
        ordering = ["pattern"]

    def __str__(self) -> str:
        return self.pattern


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # gave up after the last retry; shown to agents


class Delivery(models.Model):
    """One notification to one recipient, and each attempt to send it. Its Message-ID is how a
    reply to it finds its ticket again."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="deliveries")
    entry = models.ForeignKey(
        "tickets.ThreadEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    notice = models.CharField(_("notice"), max_length=40)
    recipient = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")
        indexes = [models.Index(fields=["ticket", "created_at"], name="delivery_ticket_time")]

    def __str__(self) -> str:
        return f"{self.notice} → {self.recipient} ({self.get_status_display()})"


class EmailTemplate(models.Model):
    """An administrator's wording of one notification, overriding the built-in one. Subject and
    body are Django templates over the documented variables (tessera/mail/templates.py), checked
    when saved."""

    notice = models.CharField(_("notification"), max_length=40)
    # A language code of settings.LANGUAGES, or blank: the wording for every language that has no
    # wording of its own. Not a choices field, so shipping a language needs no migration.
    language = models.CharField(
        _("language"),
        max_length=12,
        blank=True,
        default="",
        help_text=_("Recipients who read this language get this wording; leave empty for all languages."),
    )
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"), help_text=_("Plain text; the HTML version is made from it."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["notice", "language"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "language"], name="mail_template_notice_language"),
        ]

    def __str__(self) -> str:
        return f"{self.notice} ({self.language})" if self.language else self.notice
