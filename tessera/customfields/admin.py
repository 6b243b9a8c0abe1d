"""Forms, fields and choice lists in the configuration admin.

Fields are edited inline on their form, in order. A field or an option that has answers is
retired, never deleted (deleting is refused: answers are protected), so old tickets keep what
was answered. Patterns that do not compile and limits that contradict each other are refused
at save, with the reason next to the input.
"""

from __future__ import annotations

from typing import Any

import regex

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import CHOICE_TYPES, TEXT_TYPES, ChoiceItem, ChoiceList, Field, FieldType, Form, Target
from .rendering import compile_pattern, default_initial, form_field


class ChoiceItemInline(admin.TabularInline):
    model = ChoiceItem
    extra = 1
    fields = ["label", "order", "is_active"]  # an option with answers is protected: untick "offered"


@admin.register(ChoiceList)
class ChoiceListAdmin(admin.ModelAdmin):
    list_display = ["name", "shared", "created_at"]
    list_filter = ["shared"]
    search_fields = ["name"]
    inlines = [ChoiceItemInline]


def check_field(data: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a field's settings, by setting name (empty when nothing is)."""
    problems: dict[str, str] = {}
    kind = data.get("type")
    pattern = data.get("pattern") or ""
    if pattern:
        if kind not in TEXT_TYPES:
            problems["pattern"] = str(_("Only text, email and phone fields take a pattern."))
        else:
            try:
                compile_pattern(pattern)
            except regex.error as exc:
                problems["pattern"] = str(_("This pattern does not work: %(reason)s") % {"reason": exc})
    low, high = data.get("min_length"), data.get("max_length")
    if low is not None and high is not None and low > high:
        problems["max_length"] = str(_("The longest answer cannot be shorter than the shortest."))
    if (low is not None or high is not None) and kind not in TEXT_TYPES:
        problems["min_length"] = str(_("Only text, email and phone fields take a length."))
    small, large = data.get("min_value"), data.get("max_value")
    if small is not None and large is not None and small > large:
        problems["max_value"] = str(_("The largest number cannot be smaller than the smallest."))
    if (small is not None or large is not None) and kind != FieldType.NUMBER:
        problems["min_value"] = str(_("Only number fields take a range."))
    if kind in CHOICE_TYPES and data.get("choice_list") is None:
        problems["choice_list"] = str(_("Choose the list this field offers its options from."))
    if kind not in CHOICE_TYPES and data.get("choice_list") is not None:
        problems["choice_list"] = str(_("Only choice, multiple-choice and list fields take options."))
    return problems


class FieldForm(forms.ModelForm):
    class Meta:
        model = Field
        fields = [
            "key",
            "label",
            "type",
            "choice_list",
            "required",
            "audience",
            "help_text",
            "min_length",
            "max_length",
            "min_value",
            "max_value",
            "pattern",
            "pattern_message",
            "default",
            "order",
            "retired_at",
        ]

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if self.instance.pk is not None and key != self.instance.key and self.instance.values.exists():
            raise forms.ValidationError(_("This field has answers: its key stays as it is. Change the label instead."))
        return key.lower().replace("-", "_")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, problem in check_field(data).items():
            self.add_error(name, problem)
        if self.instance.pk is not None and "type" in self.changed_data and self.instance.values.exists():
            self.add_error("type", _("This field has answers: add a new field instead of changing its type."))
        if self.instance.pk is not None and "choice_list" in self.changed_data and self.instance.values.exists():
            # Its answers name items of the old list: a queue filter on an item finds a ticket by
            # the item alone (customfields.queue), which must name one field.
            self.add_error("choice_list", _("This field has answers: add a new field instead of changing its list."))
        default = (data.get("default") or "").strip()
        if default and not self.errors:
            self._check_default(data, default)
        return data

    def _check_default(self, data: dict[str, Any], default: str) -> None:
        """The default must be an answer the field itself would accept."""
        probe = Field(**{k: v for k, v in data.items() if k in {f.name for f in Field._meta.concrete_fields}})
        probe.key = probe.key or "probe"
        initial = default_initial([probe]).get(probe.form_name)
        if probe.is_choice:
            if not initial:
                self.add_error("default", _("The default must be one of the list's offered options, by its label."))
            return
        if probe.type == FieldType.CHECKBOX:
            return
        try:
            form_field(probe).clean(initial)
        except forms.ValidationError as exc:
            self.add_error(
                "default", _("The default is not a valid answer: %(reason)s") % {"reason": " ".join(exc.messages)}
            )


class FieldInline(admin.StackedInline):
    model = Field
    form = FieldForm
    extra = 0
    ordering = ["order", "id"]
    autocomplete_fields = ["choice_list"]
    fieldsets = [
        (None, {"fields": [("label", "key"), ("type", "choice_list"), ("required", "audience"), "help_text", "order"]}),
        (
            _("Checks and default"),
            {
                "classes": ["collapse"],
                "fields": [
                    ("min_length", "max_length"),
                    ("min_value", "max_value"),
                    ("pattern", "pattern_message"),
                    "default",
                    "retired_at",
                ],
            },
        ),
    ]


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ["title", "target", "for_all_tickets", "order", "is_active"]
    list_filter = ["target", "is_active", "for_all_tickets"]
    search_fields = ["title"]
    filter_horizontal = ["topics"]
    inlines = [FieldInline]
    fields = ["title", "instructions", "target", "for_all_tickets", "topics", "order", "is_active"]

    def save_model(self, request: HttpRequest, obj: Form, form: Any, change: bool) -> None:
        if obj.target != Target.TICKET and obj.for_all_tickets:
            obj.for_all_tickets = False
        super().save_model(request, obj, form, change)


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    """Every field of every form, to find one by key and to retire fields in bulk."""

    form = FieldForm
    list_display = ["label", "key", "type", "form", "audience", "required", "retired_at"]
    list_filter = ["type", "audience", "form"]
    search_fields = ["label", "key"]
    autocomplete_fields = ["choice_list"]
    actions = ["retire", "bring_back"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["form", *FieldForm.Meta.fields]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["fields"] = self.get_fields(request, obj)
        return super().get_form(request, obj, change, **kwargs)

    @admin.action(description=_("Retire the selected fields (answers are kept)"))
    def retire(self, request: HttpRequest, queryset: QuerySet[Field]) -> None:
        count = queryset.filter(retired_at__isnull=True).update(retired_at=timezone.now())
        self.message_user(
            request, ngettext("%(n)d field retired.", "%(n)d fields retired.", count) % {"n": count}, messages.SUCCESS
        )

    @admin.action(description=_("Ask the selected retired fields again"))
    def bring_back(self, request: HttpRequest, queryset: QuerySet[Field]) -> None:
        count = queryset.filter(retired_at__isnull=False).update(retired_at=None)
        self.message_user(
            request,
            ngettext("%(n)d field asked again.", "%(n)d fields asked again.", count) % {"n": count},
            messages.SUCCESS,
        )
