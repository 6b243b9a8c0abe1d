"""The knowledge base's URL tables: every path matches exactly one route (no route hides behind
another listed before it)."""

from __future__ import annotations

import pytest

from django.urls import resolve

SAMPLES = {
    "/kb/": "kb:home",
    "/kb/search/": "kb:search",
    "/kb/suggest/": "kb:suggest",
    "/kb/categories/printing/": "kb:category",
    "/kb/articles/printer-jams/": "kb:article",
    "/kb/articles/printer-jams/feedback/": "kb:feedback",
    "/kb/articles/printer-jams/answered/": "kb:answered",
    "/kb/articles/printer-jams/files/5/": "kb:file",
    "/staff/kb/": "kb_staff:list",
    "/staff/kb/new/": "kb_staff:create",
    "/staff/kb/preview/": "kb_staff:preview",
    "/staff/kb/picker/": "kb_staff:picker",
    "/staff/kb/picker/7/": "kb_staff:picker_article",
    "/staff/kb/categories/": "kb_staff:categories",
    "/staff/kb/categories/7/": "kb_staff:category",
    "/staff/kb/files/7/": "kb_staff:file",
    "/staff/kb/7/": "kb_staff:edit",
    "/staff/kb/7/delete/": "kb_staff:delete",
    "/staff/kb/7/history/": "kb_staff:history",
    "/staff/kb/7/history/3/": "kb_staff:version",
}


@pytest.mark.parametrize(("path", "name"), SAMPLES.items())
def test_each_path_reaches_its_route(path, name):
    assert resolve(path).view_name == name
