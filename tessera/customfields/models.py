"""Custom forms and fields: what the desk asks beyond subject and message, and the answers.

An administrator groups fields into forms and attaches a form to help topics (asked when that
topic is chosen), to every ticket, to users or to organisations. Answers are stored typed, one
row per (field, owner[, item]) in `FieldValue`, never as a JSON blob: a queue filtered on a
choice field is an index-only semi-join over `(item, ticket)` at a million tickets.

Choices are always rows: a choice, multiple-choice or list field draws its options from a
`ChoiceList`, so every stored choice is a foreign key to a `ChoiceItem`. Renaming a field or an
item changes its label only; the field's `key` is stable (variables, the API and imported
osTicket field names use it). Fields and items are retired, never deleted while answers exist.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChoiceList(models.Model):
    """An administrator-managed list of options (offices, products, asset classes), or the own
    options of one choice field (`shared` off)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    shared = models.BooleanField(
        _("offered to every form"),
        default=True,
        help_text=_("Off for the options of a single choice field; on for a list several fields use."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("choice list")
        verbose_name_plural = _("choice lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChoiceItem(models.Model):
    """One option of a list. Retiring it (`is_active` off) stops offering it; stored answers keep it."""

    choice_list = models.ForeignKey(ChoiceList, verbose_name=_("list"), on_delete=models.CASCADE, related_name="items")
    label = models.CharField(_("label"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["choice_list", "order", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["choice_list", "label"], name="customfields_item_label_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Target(models.TextChoices):
    TICKET = "ticket", _("Tickets")
    USER = "user", _("Users")
    ORGANIZATION = "organization", _("Organisations")


class Form(models.Model):
    """A group of fields, asked together. A ticket form is asked for the help topics it is
    attached to, or for every ticket (`for_all_tickets`)."""

    title = models.CharField(_("title"), max_length=150)
    instructions = models.TextField(_("instructions"), blank=True, help_text=_("Shown above the fields."))
    target = models.CharField(_("asked about"), max_length=16, choices=Target.choices, default=Target.TICKET)
    for_all_tickets = models.BooleanField(
        _("every ticket"), default=False, help_text=_("Ask these fields on every ticket, whatever its help topic.")
    )
    topics = models.ManyToManyField(
        "tickets.HelpTopic",
        verbose_name=_("help topics"),
        blank=True,
        related_name="custom_forms",
        help_text=_("Ask these fields when one of these topics is chosen."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["target", "order", "title", "id"]

    def __str__(self) -> str:
        return self.title


class FieldType(models.TextChoices):
    SHORT_TEXT = "text", _("Short text")
    LONG_TEXT = "textarea", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHOICE = "choice", _("Choice")
    MULTIPLE_CHOICE = "multichoice", _("Multiple choice")
    CHECKBOX = "checkbox", _("Checkbox")
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")
    LIST = "list", _("From a list")


# The types whose answers are ChoiceItem rows.
CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTIPLE_CHOICE, FieldType.LIST})
# The types whose answers are text, and so take length limits and a pattern.
TEXT_TYPES = frozenset({FieldType.SHORT_TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE})


class Audience(models.TextChoices):
    """Who sees and edits a field. Agents always see every field."""

    END_USER = "user", _("The end user fills it in")
    END_USER_SEES = "user_sees", _("The end user sees it; agents fill it in")
    AGENTS = "agents", _("Agents only")


class Field(models.Model):
    form = models.ForeignKey(Form, verbose_name=_("form"), on_delete=models.PROTECT, related_name="fields")
    key = models.SlugField(
        _("key"),
        max_length=64,
        unique=True,
        help_text=_(
            "A short name that never changes (letters, digits, underscores): canned-response variables and the "
            "API use it. Renaming the field changes its label only."
        ),
    )
    label = models.CharField(_("label"), max_length=150)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices, default=FieldType.SHORT_TEXT)
    choice_list = models.ForeignKey(
        ChoiceList,
        verbose_name=_("options from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fields",
        help_text=_("For choice, multiple-choice and list fields."),
    )
    required = models.BooleanField(_("required"), default=False)
    min_length = models.PositiveIntegerField(_("at least (characters)"), null=True, blank=True)
    max_length = models.PositiveIntegerField(_("at most (characters)"), null=True, blank=True)
    min_value = models.DecimalField(_("smallest number"), max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(_("largest number"), max_digits=20, decimal_places=6, null=True, blank=True)
    pattern = models.CharField(
        _("pattern"),
        max_length=200,
        blank=True,
        help_text=_("A regular expression the whole answer must match, e.g. [A-Z]{2}-\\d{4}."),
    )
    pattern_message = models.CharField(
        _("message when the pattern does not match"),
        max_length=200,
        blank=True,
        help_text=_("Say what is expected, e.g. “Two letters, a dash and four digits”."),
    )
    default = models.CharField(
        _("default"),
        max_length=255,
        blank=True,
        help_text=_(
            "Filled in for a new answer. Dates as 2026-01-31, date and time as 2026-01-31 14:00, a checkbox as "
            "“yes”, a choice as its label."
        ),
    )
    audience = models.CharField(
        _("who fills it in"), max_length=16, choices=Audience.choices, default=Audience.END_USER
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    retired_at = models.DateTimeField(
        _("retired"),
        null=True,
        blank=True,
        help_text=_("A retired field is no longer asked; its answers stay on the tickets and people that have them."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["form", "order", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def is_multiple(self) -> bool:
        return self.type == FieldType.MULTIPLE_CHOICE

    @property
    def form_name(self) -> str:
        """The name of its input in every rendered form."""
        return f"cf_{self.key}"


class FieldValue(models.Model):
    """One typed answer: a field's value for exactly one ticket, user or organisation. A
    multiple-choice answer is one row per chosen item; an unanswered field has no row.

    Only the column of the field's type is set: `text` (short and long text, email, phone),
    `number`, `date`, `moment` (date and time, UTC), `flag` (checkbox) or `item` (choice,
    multiple choice, list)."""

    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="values")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="field_values",
        db_index=False,  # cf_value_ticket_field, partial, serves look-ups and cascades
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="field_values",
        db_index=False,  # cf_value_user_field
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="field_values",
        db_index=False,  # cf_value_org_field
    )
    item = models.ForeignKey(
        ChoiceItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,  # cf_value_item_ticket; people's answers by item are rare reads
    )
    text = models.TextField(blank=True, default="")
    number = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    moment = models.DateTimeField(null=True, blank=True)
    flag = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # The ticket's `updated_at`, copied onto its choice answers (ticket and item set; NULL on
    # every other row) so a queue filtered on one item walks that item's answers newest first
    # (cf_value_item_sort) instead of every ticket of the queue. Written by database triggers
    # only (customfields.sortkey): whatever the ORM sends here is replaced.
    ticket_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(ticket__isnull=False, user__isnull=True, organization__isnull=True)
                    | Q(ticket__isnull=True, user__isnull=False, organization__isnull=True)
                    | Q(ticket__isnull=True, user__isnull=True, organization__isnull=False)
                ),
                name="customfields_value_one_owner",
            ),
            # One row per (field, owner) for single values; one per (field, owner, item) for choices.
            models.UniqueConstraint(
                fields=["field", "ticket"],
                condition=Q(ticket__isnull=False, item__isnull=True),
                name="customfields_value_ticket_single",
            ),
            models.UniqueConstraint(
                fields=["field", "ticket", "item"],
                condition=Q(ticket__isnull=False, item__isnull=False),
                name="customfields_value_ticket_item",
            ),
            models.UniqueConstraint(
                fields=["field", "user"],
                condition=Q(user__isnull=False, item__isnull=True),
                name="customfields_value_user_single",
            ),
            models.UniqueConstraint(
                fields=["field", "user", "item"],
                condition=Q(user__isnull=False, item__isnull=False),
                name="customfields_value_user_item",
            ),
            models.UniqueConstraint(
                fields=["field", "organization"],
                condition=Q(organization__isnull=False, item__isnull=True),
                name="customfields_value_org_single",
            ),
            models.UniqueConstraint(
                fields=["field", "organization", "item"],
                condition=Q(organization__isnull=False, item__isnull=False),
                name="customfields_value_org_item",
            ),
        ]
        indexes = [
            # "Tickets whose field has item I": an index-only semi-join (item, ticket).
            models.Index(fields=["item", "ticket"], condition=Q(ticket__isnull=False), name="cf_value_item_ticket"),
            # "Tickets whose field has item I, newest activity first": the queue's default order,
            # walked from the item's side (customfields.queue.FieldFilter.drives).
            models.Index(
                fields=["item", "-ticket_updated_at", "-ticket"],
                condition=Q(ticket__isnull=False, item__isnull=False),
                name="cf_value_item_sort",
            ),
            # One ticket's answers (the ticket page, variables, a page of queue rows).
            models.Index(fields=["ticket", "field"], condition=Q(ticket__isnull=False), name="cf_value_ticket_field"),
            # Ranges on numbers and dates per field (queue filters).
            models.Index(
                fields=["field", "number", "ticket"], condition=Q(number__isnull=False), name="cf_value_field_number"
            ),
            models.Index(
                fields=["field", "date", "ticket"], condition=Q(date__isnull=False), name="cf_value_field_date"
            ),
            models.Index(
                fields=["field", "moment", "ticket"], condition=Q(moment__isnull=False), name="cf_value_field_moment"
            ),
            models.Index(fields=["user", "field"], condition=Q(user__isnull=False), name="cf_value_user_field"),
            models.Index(
                fields=["organization", "field"], condition=Q(organization__isnull=False), name="cf_value_org_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field.key}"
