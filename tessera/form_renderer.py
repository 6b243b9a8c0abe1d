"""Select boxes drawn in Python: the one form widget the workspace pays for per option.

Django draws a <select> with one template include per <option>. The ticket page and the queue
filters offer every agent, department and topic of the desk, a few hundred options per page,
and that accounted for 10–25 ms of each request at a million tickets (bench/RESULTS.md). This
renderer draws them with tessera.fast_html.render_select (the same markup and escaping as
Django's select.html and select_option.html) and hands every other widget (and any select
with a custom option template) to the usual templates.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates

from tessera.fast_html import render_select

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


class FastSelectRenderer(DjangoTemplates):
    """Django's template renderer, except for plain <select> widgets."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT:
            widget = context["widget"]
            if all(o["template_name"] == OPTION for _n, options, _i in widget["optgroups"] for o in options):
                return render_select(widget)
        return super().render(template_name, context, request)
