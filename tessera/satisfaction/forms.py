from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_COMMENT, MAX_SCORE, MIN_SCORE

# What each number of stars means, said in words for screen readers and the mail.
SCORE_WORDS = {
    1: _("Very poor"),
    2: _("Poor"),
    3: _("Fair"),
    4: _("Good"),
    5: _("Excellent"),
}


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How was the help you got?"),
        choices=[(n, SCORE_WORDS[n]) for n in range(MIN_SCORE, MAX_SCORE + 1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose from 1 to 5 stars."),
            "invalid_choice": _("Choose from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_COMMENT}),
    )
