"""One URL table for the workspace (tessera/staff/urls.py) whose order does not matter: every
path matches exactly one route, so no route hides behind a catch-all listed before it."""

from __future__ import annotations

import pytest

from tessera.staff import urls

SAMPLES = {
    "": "dashboard",
    "login/": "login",
    "logout/": "logout",
    "jump/": "jump",
    "queues/counts/": "queue_counts",
    "queues/open/": "queue",
    "queues/savedx/": "queue",
    "queues/open/arrivals/": "queue_arrivals",
    "queues/saved/": "saved_queue_create",
    "queues/saved/7/": "saved_queue",
    "queues/saved/7/arrivals/": "saved_queue_arrivals",
    "queues/saved/7/rename/": "saved_queue_rename",
    "queues/saved/7/update/": "saved_queue_update",
    "queues/saved/7/delete/": "saved_queue_delete",
    "queues/saved/7/share/": "saved_queue_share",
    "search/": "search",
    "bulk/": "bulk",
    "tickets/100001/": "ticket",
    "tickets/100001/reply/": "ticket_action",
    "tickets/100001/add-collaborator/": "ticket_action",
    "tickets/100001/locker/": "ticket_action",  # answered "no such action" by the view
    "tickets/100001/lock/": "ticket_lock",
    "tickets/100001/unlock/": "ticket_unlock",
    "tickets/100001/presence/": "ticket_presence",
    "tickets/100001/merge/": "ticket_merge",
    "tickets/100001/link/": "ticket_link",
    "tickets/100001/unlink/": "ticket_unlink",
    "tickets/100001/properties/": "ticket_properties",
    "tickets/100001/properties/priority/": "ticket_property",
    "tickets/100001/undo/": "ticket_property_undo",
    "tickets/100001/sla/due/": "ticket_sla",
    "files/5/": "attachment",
    "profile/": "profile",
    "density/": "density",
    "priorities.css": "priority_css",
    "tickets/new/": "new_ticket",
    "people/lookup/": "people_lookup",
    "people/": "people",
    "people/import/": "people_import",
    "people/import/confirm/": "people_import_confirm",
    "people/export.csv": "people_export",
    "people/7/": "person",
    "people/7/edit/": "person_edit",
    "people/7/notes/": "person_note",
    "people/notes/7/delete/": "directory_note_delete",
    "organisations/": "organisations",
    "organisations/new/": "organisation_create",
    "organisations/export.csv": "organisations_export",
    "organisations/7/": "organisation",
    "organisations/7/edit/": "organisation_edit",
    "organisations/7/notes/": "organisation_note",
}


@pytest.mark.parametrize("path, name", list(SAMPLES.items()))
def test_each_workspace_path_matches_exactly_one_route(path, name):
    matching = [p.name for p in urls.urlpatterns if p.resolve(path) is not None]

    assert matching == [name]


def test_every_route_is_in_the_table_and_sampled():
    assert {p.name for p in urls.urlpatterns} == set(SAMPLES.values())
