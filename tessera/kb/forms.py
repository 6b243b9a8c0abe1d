"""The workspace's knowledge-base forms: they only parse. What is allowed and what is valid is
decided by kb.services (and shown next to the fields)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.tickets.models import HelpTopic
from tessera.upload_fields import MultipleFileField

from .models import ArticleAttachment, Category


class CategoryChoiceField(forms.ModelChoiceField[Category]):
    """Categories listed as a tree: each name indented under its parent."""

    def __init__(self, *args: Any, depths: dict[int, int] | None = None, **kwargs: Any) -> None:
        self.depths = depths or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Category) -> str:
        return "\u2003" * self.depths.get(obj.pk, 0) + obj.name + ("" if obj.is_public else f" ({_('internal')})")


def tree_order(categories: list[Category]) -> tuple[list[Category], dict[int, int]]:
    """Categories in tree order (each followed by its children) and each one's depth."""
    children: dict[int | None, list[Category]] = {}
    ids = {c.pk for c in categories}
    for c in categories:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    ordered: list[Category] = []
    depths: dict[int, int] = {}

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            if c.pk in depths:
                continue
            depths[c.pk] = depth
            ordered.append(c)
            walk(c.pk, depth + 1)

    walk(None, 0)
    return ordered, depths


class ArticleForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        error_messages={"required": _("Give the article a title.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False, empty_label=_("No category")
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 16, "class": "kb-body"}),
        help_text=_("Markdown: **bold**, *italic*, lists, [links](https://example.com), headings with #."),
        error_messages={"required": _("Write the article's text.")},
    )
    is_public = forms.BooleanField(
        label=_("Public (everyone on the Help Center)"),
        required=False,
        initial=True,
        help_text=_("Untick for an internal article that only agents read."),
    )
    featured = forms.BooleanField(label=_("Featured on the knowledge base's home"), required=False)
    topics = forms.ModelMultipleChoiceField(
        label=_("Related help topics"),
        queryset=HelpTopic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    slug = forms.SlugField(
        label=_("Address"),
        max_length=220,
        required=False,
        help_text=_("The last part of the article's address; made from the title when left empty."),
    )
    attachments = MultipleFileField(label=_("Add files"))
    seen = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    remove_files = forms.ModelMultipleChoiceField(
        label=_("Remove files"),
        queryset=ArticleAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, categories: list[Category], files: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        ordered, depths = tree_order(categories)
        field = cast(CategoryChoiceField, self.fields["category"])
        field.queryset = Category.objects.filter(pk__in=[c.pk for c in ordered])
        field.depths = depths
        # Tree order, not the queryset's: choices come from this list.
        field.choices = [("", field.empty_label or ""), *[(c.pk, field.label_from_instance(c)) for c in ordered]]
        cast(forms.ModelMultipleChoiceField, self.fields["topics"]).queryset = HelpTopic.objects.order_by("name")
        if files is None:
            del self.fields["remove_files"]
        else:
            cast(forms.ModelMultipleChoiceField, self.fields["remove_files"]).queryset = files


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, error_messages={"required": _("Give the category a name.")})
    parent = CategoryChoiceField(
        label=_("Inside"), queryset=Category.objects.none(), required=False, empty_label=_("Top level")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_public = forms.BooleanField(
        label=_("Public"),
        required=False,
        initial=True,
        help_text=_("An internal category, and everything in it, is for agents only."),
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0, required=False)
    slug = forms.SlugField(label=_("Address"), max_length=140, required=False)

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        ordered, depths = tree_order(categories)
        field = cast(CategoryChoiceField, self.fields["parent"])
        field.queryset = Category.objects.filter(pk__in=[c.pk for c in ordered])
        field.depths = depths
        field.choices = [("", field.empty_label or ""), *[(c.pk, field.label_from_instance(c)) for c in ordered]]
