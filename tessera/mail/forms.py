"""Forms of the mail admin. The email template form refuses, when an administrator saves, any
wording that would fail or misbehave when a notification is sent hours later: a template that
does not compile, a variable that is not documented (it would silently render empty), a tag that
reaches outside the template ({% load %}, {% include %}, ...), or a subject on several lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template import TemplateSyntaxError
from django.template.base import FilterExpression, Lexer, Node, TokenType, VariableNode
from django.template.defaulttags import FilterNode, FirstOfNode, IfNode, TemplateLiteral, WithNode
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import templates
from .models import BannedSender, EmailTemplate, Mailbox

# Tags that only shape the text. Everything else is refused: loop tags have nothing to loop
# over, and url/csrf_token/cycle/regroup/... have no use in an email and widen what a template can do.
ALLOWED_TAGS = {
    "if",
    "elif",
    "else",
    "endif",
    "with",
    "endwith",
    "firstof",
    "filter",
    "endfilter",
    "spaceless",
    "endspaceless",
    "now",
    "comment",
    "endcomment",
    "templatetag",
    "verbatim",
    "endverbatim",
}
REACHING_OUT = {"load", "include", "extends", "ssi", "debug"}


def _names(expression: FilterExpression, *, with_base: bool = True) -> Iterator[str]:
    """Dotted names of the variables a filter expression reads (its value and filter arguments)."""
    var = expression.var
    if with_base and getattr(var, "lookups", None):
        yield ".".join(var.lookups)
    for _func, args in expression.filters:
        for is_variable, arg in args:
            if is_variable and getattr(arg, "lookups", None):
                yield ".".join(arg.lookups)


def _condition_names(condition: object) -> Iterator[str]:
    if condition is None:
        return
    if isinstance(condition, TemplateLiteral):
        # The stubs give Literal.value a literal's type; a TemplateLiteral holds a FilterExpression.
        yield from _names(cast(FilterExpression, condition.value))
        return
    for side in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if side is not None:
            yield from _condition_names(side)


def used_variables(nodelist: Iterable[Node], local: frozenset[str] = frozenset()) -> Iterator[tuple[str, int | None]]:
    """(name, line) for every variable the compiled template reads, outside names bound by {% with %}."""
    for node in nodelist:
        line = getattr(getattr(node, "token", None), "lineno", None)
        names: list[str] = []
        children: list[tuple[Iterable[Node], frozenset[str]]] = []
        if isinstance(node, VariableNode):
            names += _names(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                names += _condition_names(condition)
                children.append((body, local))
        elif isinstance(node, FirstOfNode):
            for expression in node.vars:
                names += _names(expression)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                names += _names(expression)
            children.append((node.nodelist, local | set(node.extra_context)))
        elif isinstance(node, FilterNode):
            names += _names(node.filter_expr, with_base=False)  # its base is the enclosed text
            children.append((node.nodelist, local))
        else:
            children += [(getattr(node, attr), local) for attr in node.child_nodelists if getattr(node, attr, None)]
        for name in names:
            if name not in local:
                yield name, line
        for child, scope in children:
            yield from used_variables(child, scope)


def check_template(source: str, notice: str) -> list[str]:
    """What is wrong with an administrator's template for `notice`, as messages to show."""
    errors = []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.strip():
            continue
        tag = token.split_contents()[0]
        if tag in REACHING_OUT:
            errors.append(
                gettext("Line %(line)s: {%% %(tag)s %%} is not allowed in email templates.")
                % {"line": token.lineno, "tag": tag}
            )
        elif tag not in ALLOWED_TAGS:
            errors.append(
                gettext("Line %(line)s: the tag {%% %(tag)s %%} is not available in email templates (use: %(tags)s).")
                % {
                    "line": token.lineno,
                    "tag": tag,
                    "tags": ", ".join(sorted(t for t in ALLOWED_TAGS if not t.startswith("end"))),
                }
            )
    if errors:
        return errors
    try:
        compiled = templates.CHECKING_ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        if line:
            return [gettext("Line %(line)s: %(error)s") % {"line": line, "error": exc}]
        return [str(exc)]
    allowed = set(templates.NOTICES[notice].names)
    unknown: dict[str, int | None] = {}
    for name, line in used_variables(compiled.nodelist):
        if name not in allowed:
            unknown.setdefault(name, line)
    for name, line in unknown.items():
        errors.append(
            gettext("Line %(line)s: “%(name)s” is not a variable of this notification. You can use: %(allowed)s.")
            % {"line": line or "?", "name": name, "allowed": ", ".join(templates.NOTICES[notice].names)}
        )
    return errors


class EmailTemplateForm(forms.ModelForm):
    """Add or change the wording of one notification; `notice` is only chosen when adding."""

    notice = forms.ChoiceField(label=_("Notification"), choices=())
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_(
            "Recipients who read this language get this wording. “All languages” serves everyone else; "
            "without either, the built-in wording (translated) is sent."
        ),
    )

    class Meta:
        model = EmailTemplate
        fields = ["notice", "language", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16, "cols": 90, "style": "font-family: monospace"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = cast(forms.ChoiceField, self.fields["language"])
        language.choices = [("", _("All languages")), *settings.LANGUAGES]
        if self.instance.pk:
            del self.fields["notice"]  # a wording belongs to its notification; add another instead
        else:
            notice = cast(forms.ChoiceField, self.fields["notice"])
            notice.choices = templates.choices(exclude=set())
            notice.help_text = format_lazy(
                _(
                    "Each notification can have one wording for all languages and one for each language. "
                    "Variables: {docs}."
                ),
                docs=templates.DOCS,
            )

    def _notice(self) -> str | None:
        notice: str | None = self.instance.notice if self.instance.pk else self.cleaned_data.get("notice")
        return notice

    def clean_subject(self) -> str:
        subject: str = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise ValidationError(_("The subject must fit on one line."), code="multiline")
        return subject.strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        notice = self._notice()
        if notice not in templates.NOTICES:
            return cleaned
        language = cleaned.get("language", "")
        if EmailTemplate.objects.filter(notice=notice, language=language).exclude(pk=self.instance.pk).exists():
            self.add_error("language", _("This notification already has a wording in this language."))
        for name in ("subject", "body"):
            if name in cleaned:
                for message in check_template(cleaned[name], notice):
                    self.add_error(name, message)
        return cleaned


class MailboxForm(forms.ModelForm):
    """The IMAP password is never sent back to the browser; leaving it empty keeps the stored one."""

    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folder",
            "archive_folder",
            "department",
            "topic",
            "is_active",
        ]

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and self.instance.pk:
            return Mailbox.objects.filter(pk=self.instance.pk).values_list("password", flat=True).first() or ""
        return password


class BannedSenderForm(forms.ModelForm):
    """Patterns are kept lower-case and checked, so "Spam@Example.COM " matches what ingest compares."""

    class Meta:
        model = BannedSender
        fields = ["pattern", "reason"]

    def clean_pattern(self) -> str:
        pattern: str = self.cleaned_data["pattern"].strip().lower().lstrip("@")
        if "@" in pattern:
            validate_email(pattern)
        elif "." not in pattern or " " in pattern:
            raise ValidationError(_("Enter a full address (spam@example.com) or a domain (example.com)."))
        return pattern
