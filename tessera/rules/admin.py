"""Routing rules in the admin: ordered, edited with their conditions and actions inline, counted,
and tried on a sample ticket before they are put to work (`test_view`, which changes nothing).
`preview_view` does the same for the form as it stands, unsaved: the change form posts itself,
inlines and all, to it; it validates and shows, saving nothing.

A pattern that does not compile is refused when the rule is saved; so is an action without its
target. A new rule can be saved inactive, tested, then switched on.
"""

from __future__ import annotations

from typing import Any

import regex

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tessera.customfields import rule_values
from tessera.customfields.models import Field as CustomField
from tessera.customfields.models import Target
from tessera.tickets.models import EntryKind, Source, Ticket

from . import engine
from .models import TARGET_FIELDS, Action, ActionKind, Condition, Field, Operator, Refusal, Rule


def custom_field_choices() -> list[tuple[str, str]]:
    """The ticket fields a condition may look at, by key (retired ones too, so that a rule
    naming one still shows it)."""
    fields = CustomField.objects.filter(form__target=Target.TICKET).order_by("form__order", "form_id", "order", "id")
    return [("", "—")] + [
        (f.key, f"{f.label} ({f.key})" + (_(" — retired") if f.retired_at is not None else "")) for f in fields
    ]


class ConditionForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = ["field", "field_key", "operator", "value"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A select of the desk's ticket fields, for the "custom field" choice of `field`.
        self.fields["field_key"] = forms.ChoiceField(
            label=gettext_lazy("custom field"),
            choices=custom_field_choices,
            required=False,
            help_text=gettext_lazy(
                "With “custom field”: which one. A choice compares its label, a checkbox “yes” or “no”, "
                "a date YYYY-MM-DD."
            ),
        )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("field") == Field.CUSTOM and not data.get("field_key"):
            self.add_error("field_key", _("Choose the custom field this condition looks at."))
        elif data.get("field") and data.get("field") != Field.CUSTOM:
            data["field_key"] = ""
        value = data.get("value") or ""
        if data.get("operator") == Operator.REGEX and value:
            try:
                engine.compile_pattern(value)
            except regex.error as exc:
                self.add_error("value", _("This regular expression is not valid: %(error)s") % {"error": exc})
        if data.get("field") == Field.CHANNEL and value:
            known = engine.channel_values()
            wrong = [v for v in engine.split_values(value) if engine.channel_value(v) not in known]
            if data.get("operator") in (Operator.EQUALS, Operator.NOT_EQUALS, Operator.ONE_OF) and wrong:
                self.add_error(
                    "value",
                    _("Unknown channel %(wrong)s; use one of: %(known)s (or portal, agent).")
                    % {"wrong": ", ".join(wrong), "known": ", ".join(known)},
                )
        return data


class ActionForm(forms.ModelForm):
    class Meta:
        model = Action
        fields = ["kind", "department", "priority", "sla_plan", "team", "agent", "status", "topic", "text"]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind")
        if not kind:
            return data
        target = TARGET_FIELDS.get(ActionKind(kind))
        if target is not None and data.get(target) is None:
            what = str(self.fields[target].label or target).lower()
            self.add_error(target, _("Choose the %(what)s this action sets.") % {"what": what})
        if kind == ActionKind.COLLABORATORS:
            found = engine.addresses(data.get("text") or "")
            if not found:
                self.add_error("text", _("Give at least one address to copy."))
            for address in found:
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error("text", _("%(address)s is not an email address.") % {"address": address})
        return data


class ConditionInline(admin.TabularInline):
    model = Condition
    form = ConditionForm
    extra = 1
    min_num = 1


class ActionInline(admin.StackedInline):
    model = Action
    form = ActionForm
    extra = 1


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "order",
        "is_active",
        "match",
        "stop_processing",
        "match_count",
        "last_matched_at",
        "problem",
    ]
    list_editable = ["order", "is_active"]
    list_display_links = ["name"]
    search_fields = ["name"]
    readonly_fields = ["match_count", "last_matched_at", "last_error", "last_error_at", "test_link"]
    fields = [
        "name",
        "order",
        "is_active",
        "match",
        "stop_processing",
        "test_link",
        "match_count",
        "last_matched_at",
        "last_error",
        "last_error_at",
    ]
    inlines = [ConditionInline, ActionInline]

    @admin.display(description=gettext_lazy("last problem"))
    def problem(self, rule: Rule) -> str:
        return rule.last_error[:80]

    @admin.display(description=gettext_lazy("try it"))
    def test_link(self, rule: Rule) -> str:
        if rule.pk is None:
            return _(
                "Save the rule (inactive, if you like) to test it on a sample ticket, or preview it unsaved "
                "with the button below."
            )
        url = reverse("admin:rules_rule_test", args=[rule.pk])
        return format_html('<a href="{}">{}</a>', url, _("Test this rule on a sample ticket"))

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:rule_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="rules_rule_test",
            ),
            path(
                "preview/",
                self.admin_site.admin_view(require_POST(self.preview_view)),
                name="rules_rule_preview",
            ),
        ]
        return own + super().get_urls()

    def test_view(self, request: HttpRequest, rule_id: int) -> HttpResponse:
        """What the rule would do to a ticket: an existing one, or a sample typed here. Reads only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = get_object_or_404(
            Rule.objects.prefetch_related(
                "conditions", Prefetch("actions", queryset=Action.objects.select_related(*engine.TARGET_RELATIONS))
            ),
            pk=rule_id,
        )
        form = SampleForm(request.GET or None)
        result = None
        sample = None
        actions: list[str] = []
        if form.is_bound and form.is_valid():
            sample = form.sample()
            if sample is not None:
                compiled = engine.compile_rule(rule, rule.conditions.all(), rule.actions.all())
                result = engine.check(compiled, sample, every=True)
                actions = [a.describe() for a in compiled.actions] if result.matched else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test the routing rule “%(name)s”") % {"name": rule.name},
            "opts": self.model._meta,
            "original": rule,
            "form": form,
            "sample": sample,
            "result": result,
            "actions": actions,
        }
        return TemplateResponse(request, "admin/rules/rule/test.html", context)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The rule as typed in its form (`?rule=<id>` when editing one), tried on a sample without
        saving anything: the form's own errors come first, as the save would give them."""
        obj = self._previewed_rule(request)
        change = obj is not None
        model_form = self.get_form(request, obj, change=change)
        form = model_form(request.POST, instance=obj)
        form_valid = form.is_valid()
        # The admin's own way to build the inlines from a POST (the add and change views use it).
        formsets, _inlines = self._create_formsets(request, form.instance, change=change)  # type: ignore[attr-defined]
        formsets_valid = all([formset.is_valid() for formset in formsets])
        errors = self._preview_errors(form, formsets)
        sample_form = SampleForm(request.POST if "sample-submitted" in request.POST else None, prefix="sample")
        result = None
        sample = None
        actions: list[str] = []
        if form_valid and formsets_valid and sample_form.is_bound and sample_form.is_valid():
            sample = sample_form.sample()
            if sample is not None:
                rule = form.instance
                compiled = engine.compile_rule(rule, _kept(formsets, Condition), _kept(formsets, Action))
                result = engine.check(compiled, sample, every=True)
                actions = [a.describe() for a in compiled.actions] if result.matched else []
        carried = [
            (key, value)
            for key, values in request.POST.lists()
            if not key.startswith("sample-") and key != "csrfmiddlewaretoken"
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview the routing rule “%(name)s” (not saved)") % {"name": form.data.get("name", "")},
            "opts": self.model._meta,
            "original": obj,
            "errors": errors,
            "form": sample_form,
            "carried": carried,
            "action_url": request.get_full_path(),
            "stop_processing": bool(form_valid and form.instance.stop_processing),
            "sample": sample,
            "result": result,
            "actions": actions,
        }
        return TemplateResponse(request, "admin/rules/rule/preview.html", context)

    def _previewed_rule(self, request: HttpRequest) -> Rule | None:
        raw = request.GET.get("rule", "")
        if not raw:
            if not self.has_add_permission(request):
                raise PermissionDenied
            return None
        if not raw.isdecimal():
            raise Http404
        rule = get_object_or_404(Rule, pk=int(raw))
        if not self.has_change_permission(request, rule):
            raise PermissionDenied
        return rule

    @staticmethod
    def _preview_errors(form: forms.ModelForm, formsets: list[BaseInlineFormSet]) -> list[str]:
        """Every refusal the save would give, in words, each saying where it is."""
        errors = [
            f"{form.fields[name].label if name in form.fields else _('Rule')}: {message}"
            for name, messages in form.errors.items()
            for message in messages
        ]
        for formset in formsets:
            what = str(formset.form._meta.model._meta.verbose_name).capitalize()
            errors.extend(f"{what}: {message}" for message in formset.non_form_errors())
            for number, inline in enumerate(formset.forms, start=1):
                for name, messages in inline.errors.items():
                    label = inline.fields[name].label if name in inline.fields else ""
                    where = f"{what} {number}" + (f", {str(label).lower()}" if label else "")
                    errors.extend(f"{where}: {message}" for message in messages)
        return errors


def _kept(formsets: list[BaseInlineFormSet], model: type[Condition] | type[Action]) -> list[Any]:
    """The inline rows the save would keep, as unsaved instances built from the form."""
    kept: list[Any] = []
    for formset in formsets:
        if formset.model is not model:
            continue
        for inline in formset.forms:
            if formset.can_delete and inline.cleaned_data.get("DELETE"):
                continue
            if inline.instance.pk is None and not inline.has_changed():
                continue
            kept.append(inline.instance)
    return kept


class SampleForm(forms.Form):
    number = forms.IntegerField(label=gettext_lazy("Existing ticket number"), required=False, min_value=1)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Source.choices, required=False)
    sender = forms.CharField(label=gettext_lazy("Sender address"), max_length=254, required=False)
    recipient = forms.CharField(label=gettext_lazy("Recipient address"), max_length=254, required=False)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=255, required=False)
    body = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea, max_length=20_000, required=False)
    topic = forms.CharField(label=gettext_lazy("Help topic"), max_length=120, required=False)
    organization = forms.CharField(label=gettext_lazy("Organisation"), max_length=120, required=False)
    priority = forms.CharField(label=gettext_lazy("Priority"), max_length=60, required=False)
    custom = forms.CharField(
        label=gettext_lazy("Custom fields"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text=gettext_lazy("One “key = answer” a line; repeat a key for several choices."),
    )

    def clean_number(self) -> int | None:
        number: int | None = self.cleaned_data.get("number")
        if number is not None and not Ticket.objects.filter(number=number).exists():
            raise ValidationError(_("There is no ticket #%(number)d.") % {"number": number})
        return number

    def sample(self) -> engine.Sample | None:
        data = self.cleaned_data
        recipients = (data["recipient"],) if data.get("recipient") else ()
        if data.get("number"):
            ticket = Ticket.objects.select_related("user", "organization", "topic", "priority").get(
                number=data["number"]
            )
            opening = ticket.entries.filter(kind=EntryKind.MESSAGE).order_by("created_at", "pk").first()
            return engine.Sample(
                channel=ticket.source,
                sender=ticket.user.email,
                recipients=recipients,
                subject=ticket.subject,
                body=opening.body_text if opening else "",
                topic=ticket.topic.name if ticket.topic else "",
                organization=ticket.organization.name if ticket.organization else "",
                priority=ticket.priority.name,
                custom=rule_values.for_ticket(ticket),
            )
        if not any(data.get(k) for k in ("sender", "subject", "body", "recipient", "custom")):
            return None
        return engine.Sample(
            channel=data.get("channel") or Source.WEB,
            sender=data.get("sender") or "",
            recipients=recipients,
            subject=data.get("subject") or "",
            body=data.get("body") or "",
            topic=data.get("topic") or "",
            organization=data.get("organization") or "",
            priority=data.get("priority") or "",
            custom=rule_values.parse_sample(data.get("custom") or ""),
        )


@admin.register(Refusal)
class RefusalAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule_name", "channel", "sender", "subject", "reason"]
    list_filter = ["channel"]
    search_fields = ["sender", "subject", "rule_name"]
    readonly_fields = ["created_at", "rule", "rule_name", "channel", "sender", "subject", "message", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
