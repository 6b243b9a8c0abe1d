"""A form's fields as a Django form: labelled, accessible inputs named `cf_<key>`, each checked
by its type and the administrator's limits (length, range, pattern).

Answers are bounded whatever the administrator set (`TEXT_LIMIT`, `LONG_TEXT_LIMIT`), and a
pattern runs on the `regex` package with a time limit, as routing rules' patterns do: a pattern
that would backtrack for ever on a hostile answer fails that answer instead of a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import regex

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from tessera.accounts import phone

from .models import ChoiceItem, Field, FieldType, Form
from .selectors import asked, forms_for_ticket

if TYPE_CHECKING:
    from tessera.tickets.models import HelpTopic

# Upper bounds that hold whatever a field's own limits say.
TEXT_LIMIT = 1000
LONG_TEXT_LIMIT = 20000
# A pattern gets this long per answer (seconds); one that runs out fails the answer.
PATTERN_SECONDS = 0.05
PATTERN_FLAGS = regex.UNICODE
PHONE = phone.PHONE  # one rule for a person's number and a phone field's


def compile_pattern(text: str) -> regex.Pattern[str]:
    """Raises regex.error for a pattern that does not compile (the admin refuses it at save)."""
    return regex.compile(text, PATTERN_FLAGS)


class PatternValidator:
    """The whole answer must match the field's pattern, within PATTERN_SECONDS."""

    def __init__(self, pattern: str, message: str) -> None:
        self.pattern = pattern
        self.message = message

    def __call__(self, value: str) -> None:
        try:
            compiled = compile_pattern(self.pattern)
        except regex.error:
            return  # refused at save; an old broken pattern must not block every ticket
        try:
            matched = compiled.fullmatch(value, timeout=PATTERN_SECONDS) is not None
        except TimeoutError:
            raise ValidationError(
                _("This answer could not be checked; write it more simply."), code="pattern_timeout"
            ) from None
        if not matched:
            raise ValidationError(self.message or _("This answer is not in the expected form."), code="pattern")


class CustomFieldsForm(forms.Form):
    """The inputs of some custom fields, grouped by form. `groups` lists (form, bound fields)
    for the fieldsets (customfields/_fieldsets.html draws them); `custom_fields` maps each
    input's name to its Field."""

    def __init__(self, grouped: list[tuple[Form, list[Field]]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_fields: dict[str, Field] = {}
        self._grouped = grouped
        keep: Mapping[str, Any] = kwargs.get("initial") or {}
        for _form, fields in grouped:
            for field in fields:
                self.fields[field.form_name] = form_field(field, keep=keep.get(field.form_name))
                self.custom_fields[field.form_name] = field

    @property
    def groups(self) -> list[tuple[Form, list[forms.BoundField]]]:
        return [(form, [self[field.form_name] for field in fields]) for form, fields in self._grouped]

    def answers(self) -> dict[Field, object]:
        """The cleaned answers by Field (call after is_valid)."""
        return {field: self.cleaned_data.get(name) for name, field in self.custom_fields.items()}


def form_field(field: Field, *, keep: object = None) -> forms.Field:
    """The Django form field for one custom field. `keep`: a stored choice to keep offering
    even if its item was retired since (an edit must not lose it silently)."""
    common: dict[str, Any] = {
        "label": field.label,
        "help_text": field.help_text,
        "required": field.required,
    }
    kind = field.type
    if kind in (FieldType.SHORT_TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE):
        return _text_field(field, common)
    if kind == FieldType.NUMBER:
        return forms.DecimalField(
            max_digits=20,
            decimal_places=6,
            min_value=field.min_value,
            max_value=field.max_value,
            widget=forms.NumberInput(attrs={"step": "any"}),
            **common,
        )
    if kind == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if kind == FieldType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
            **common,
        )
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    items = _items(field, keep)
    invalid = {
        "invalid_choice": _("Choose one of the options listed."),
        "invalid_pk_value": _("Choose one of the options listed."),
    }
    if kind == FieldType.MULTIPLE_CHOICE:
        return forms.ModelMultipleChoiceField(
            queryset=items,
            widget=forms.CheckboxSelectMultiple,
            error_messages={**invalid, "invalid_list": _("Choose one or more of the options listed.")},
            **common,
        )
    return forms.ModelChoiceField(queryset=items, empty_label=_("Choose…"), error_messages=invalid, **common)


def _items(field: Field, keep: object) -> Any:
    offered = Q(is_active=True)
    kept = (
        [keep] if isinstance(keep, int) else [k for k in keep if isinstance(k, int)] if isinstance(keep, list) else []
    )
    if kept:
        offered |= Q(pk__in=kept)
    return ChoiceItem.objects.filter(offered, choice_list_id=field.choice_list_id).order_by("order", "label", "id")


def _text_field(field: Field, common: dict[str, Any]) -> forms.Field:
    kind = field.type
    ceiling = LONG_TEXT_LIMIT if kind == FieldType.LONG_TEXT else TEXT_LIMIT
    if kind == FieldType.EMAIL:
        ceiling = 254
    max_length = min(field.max_length or ceiling, ceiling)
    validators: list[Any] = []
    if field.pattern:
        validators.append(PatternValidator(field.pattern, field.pattern_message))
    if kind == FieldType.PHONE:
        validators.append(PHONE)
    options: dict[str, Any] = {
        **common,
        "max_length": max_length,
        "min_length": field.min_length,
        "validators": validators,
    }
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **options)
    if kind == FieldType.EMAIL:
        return forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}), **options)
    if kind == FieldType.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}), **options)
    return forms.CharField(**options)


def default_initial(fields: list[Field]) -> dict[str, object]:
    """The administrator's defaults, as a new form's initial values (choices matched by label)."""
    initial: dict[str, object] = {}
    by_label: dict[tuple[int, str], int] = {}
    lists = {f.choice_list_id for f in fields if f.is_choice and f.default and f.choice_list_id}
    if lists:
        for item in ChoiceItem.objects.filter(choice_list_id__in=lists, is_active=True).only(
            "pk", "label", "choice_list_id"
        ):
            by_label[(item.choice_list_id, item.label.casefold())] = item.pk
    for field in fields:
        raw = field.default.strip()
        if not raw:
            continue
        if field.type == FieldType.CHECKBOX:
            initial[field.form_name] = raw.casefold() in ("yes", "true", "1", "on", "y")
        elif field.is_multiple:
            picked = [by_label.get((field.choice_list_id or 0, part.strip().casefold())) for part in raw.split(",")]
            initial[field.form_name] = [pk for pk in picked if pk is not None]
        elif field.is_choice:
            found = by_label.get((field.choice_list_id or 0, raw.casefold()))
            if found is not None:
                initial[field.form_name] = found
        elif field.type == FieldType.DATETIME:
            initial[field.form_name] = raw.replace(" ", "T", 1)
        else:
            initial[field.form_name] = raw
    return initial


def ticket_fields_form(
    topic: HelpTopic | int | None,
    audience: str,
    data: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
) -> CustomFieldsForm:
    """The custom fields asked for a new ticket on `topic` (and on every ticket), for
    `audience` "user" (what the end user fills in) or "agent" (every field). Without `data`
    and `initial`, the inputs start from the administrator's defaults."""
    grouped = asked(forms_for_ticket(topic), "agent" if audience == "agent" else "user")
    fields = [field for _form, group in grouped for field in group]
    if initial is None and data is None:
        initial = default_initial(fields)
    return CustomFieldsForm(grouped, data=data, initial=initial)


def fields_form(
    fields: list[Field], data: Mapping[str, Any] | None = None, initial: Mapping[str, Any] | None = None
) -> CustomFieldsForm:
    """Inputs for some fields of one form (an inline edit), without fieldsets."""
    grouped: list[tuple[Form, list[Field]]] = [(fields[0].form, fields)] if fields else []
    form = CustomFieldsForm(grouped, data=data, initial=initial)
    if fields:
        # The input takes the focus when the edit opens in place (htmx honours autofocus on swap).
        form.fields[fields[0].form_name].widget.attrs["autofocus"] = True
    return form
