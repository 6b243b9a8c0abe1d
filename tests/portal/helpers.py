"""Helpers for portal tests: access links, uploads and page checks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def access_path(ticket, user) -> str:
    from tessera.tickets import access_links

    return reverse("portal:access", args=[access_links.make_token(ticket, user)])


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def page_text(response) -> str:
    return response.content.decode()


class _FormAudit(HTMLParser):
    """Collects controls, labels and anything a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.inline_scripts = 0
        self.style_attrs = 0
        self.buttons: list[str] = []
        self._in_button = False
        self._button_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.style_attrs += 1
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden" and "hidden" not in a:
            self.controls.append(a)
        if tag == "button":
            self._in_button, self._button_text = True, ""

    def handle_data(self, data):
        if self._in_button:
            self._button_text += data

    def handle_endtag(self, tag):
        if tag == "button" and self._in_button:
            self._in_button = False
            self.buttons.append(" ".join(self._button_text.split()))


def assert_accessible_page(response) -> None:
    """Every control has a visible label tied to it, every button says what it does,
    and nothing inline would be blocked by the CSP."""
    audit = _FormAudit()
    audit.feed(page_text(response))
    unlabelled = [c.get("name") for c in audit.controls if c.get("id") not in audit.label_for]
    assert not unlabelled, f"controls without <label for>: {unlabelled}"
    assert all(audit.buttons), "a button without text"
    assert audit.inline_scripts == 0
    assert audit.style_attrs == 0


def field_value(response, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page_text(response))
    return match.group(1) if match else None


def comparable(response) -> str:
    """The page with its per-response CSP nonce and CSRF tokens (masked afresh on every page, for
    the language picker's form too) blanked, so two answers can be compared byte for byte."""
    page = re.sub(r'nonce="[^"]*"', 'nonce=""', page_text(response))
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', page)
