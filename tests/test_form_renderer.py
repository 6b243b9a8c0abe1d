"""The Python-drawn select boxes must be indistinguishable from Django's own templates."""

import re

import pytest

from django import forms
from django.forms.renderers import DjangoTemplates

from tessera.form_renderer import FastSelectRenderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---------"), ("1", "Sev-A"), ("2", 'Quote " & <b>tag</b>')])
    grouped = forms.ChoiceField(
        choices=[("Support", [("3", "Ann"), ("4", "Bob")]), ("Billing <x>", [("5", "Cy")]), ("6", "Loose")],
        widget=forms.Select(attrs={"class": "wide", "required": True, "disabled": False, "data-x": 'a"b'}),
    )
    many = forms.MultipleChoiceField(choices=[(1, "One"), (2, "Two"), (3, "Three")])
    numbers = forms.TypedChoiceField(choices=[(10, 10), (20, 20)], coerce=int)


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("data", [None, {"plain": "2", "grouped": "5", "many": ["1", "3"], "numbers": "20"}])
def test_select_boxes_match_djangos_markup_option_for_option(data):
    fast = Choices(data, renderer=FastSelectRenderer())
    django = Choices(data, renderer=DjangoTemplates())
    for name in ("plain", "grouped", "many", "numbers"):
        ours, theirs = str(fast[name]), str(django[name])
        assert _normalised(ours) == _normalised(theirs), name
    assert "&lt;b&gt;tag&lt;/b&gt;" in str(fast["plain"])
    assert 'label="Billing &lt;x&gt;"' in str(fast["grouped"])


def test_other_widgets_still_use_the_templates():
    form = Choices(renderer=FastSelectRenderer())
    assert "<textarea" in str(forms.CharField(widget=forms.Textarea).widget.render("t", "x", renderer=form.renderer))


class Hostile(forms.Form):
    pick = forms.ChoiceField(
        choices=[
            ('"><script>alert(1)</script>', "x\" onmouseover=\"alert('1')"),
            ("javascript:alert(1)", "<img src=x onerror=alert(1)>"),
            ("<optgroup label='x'>", [("1", "</select><script>alert(2)</script>")]),
        ],
        widget=forms.Select(attrs={"data-x": '" onfocus="alert(3)', "title": "javascript:alert(4)"}),
    )


@pytest.mark.parametrize("data", [None, {"pick": '"><script>alert(1)</script>'}])
def test_hostile_choices_and_attributes_stay_text_exactly_as_in_djangos_templates(data):
    fast = str(Hostile(data, renderer=FastSelectRenderer())["pick"])
    django = str(Hostile(data, renderer=DjangoTemplates())["pick"])

    assert _normalised(fast) == _normalised(django)
    assert "<script" not in fast and "<img" not in fast and "</select><" not in fast
    assert '" onmouseover="' not in fast and '" onfocus="' not in fast
