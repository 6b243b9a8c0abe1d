"""Every route of the agent workspace, in one table.

Two catch-alls share their prefix with fixed pages: /queues/<slug>/ (a system queue) and
/tickets/<number>/<action>/ (a ticket page form). Their converters refuse the fixed pages'
names, so no route depends on the order of this table.
"""

from django.urls import path, register_converter
from django.urls.converters import SlugConverter

from . import (
    bulk_views,
    density_views,
    directory_views,
    lock_views,
    new_ticket_views,
    people_lookup_views,
    priority_css,
    profile_views,
    properties_views,
    queue_views,
    relation_views,
    search_views,
    sla_views,
    views,
)

# /staff/tickets/<number>/<name>/ pages that are not ticket action forms.
TICKET_PAGES = {
    "lock": (lock_views.take_lock, "ticket_lock"),
    "unlock": (lock_views.release_lock, "ticket_unlock"),
    "presence": (lock_views.presence, "ticket_presence"),
    "merge": (relation_views.merge, "ticket_merge"),
    "link": (relation_views.link, "ticket_link"),
    "unlink": (relation_views.unlink, "ticket_unlink"),
    "properties": (properties_views.save_properties, "ticket_properties"),
    "undo": (properties_views.undo, "ticket_property_undo"),
}
# /staff/queues/<name>/ pages that are not system queues.
QUEUE_PAGES = ("counts", "saved")


def _slug_except(name: str, taken: tuple[str, ...] | list[str]) -> str:
    """Register and return a path converter matching any slug except `taken` (each followed by
    "/", as every route here is)."""

    class SlugExcept(SlugConverter):
        regex = "(?!(?:" + "|".join(taken) + ")/)" + SlugConverter.regex

    register_converter(SlugExcept, name)
    return name


ACTION = _slug_except("staff_ticket_action", list(TICKET_PAGES))
QUEUE = _slug_except("staff_queue_slug", QUEUE_PAGES)

app_name = "staff"
urlpatterns = [
    # signing in and out, the number box
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("jump/", views.jump, name="jump"),
    # queues (queue_views): the dashboard, system and saved queues, counts, arrivals
    path("", queue_views.dashboard, name="dashboard"),
    path("queues/counts/", queue_views.counts, name="queue_counts"),
    path(f"queues/<{QUEUE}:slug>/", queue_views.queue, name="queue"),
    path(f"queues/<{QUEUE}:slug>/arrivals/", queue_views.queue_arrivals, name="queue_arrivals"),
    path("queues/saved/", queue_views.saved_queue_create, name="saved_queue_create"),
    path("queues/saved/<int:pk>/", queue_views.saved_queue, name="saved_queue"),
    path("queues/saved/<int:pk>/arrivals/", queue_views.saved_queue_arrivals, name="saved_queue_arrivals"),
    path("queues/saved/<int:pk>/rename/", queue_views.saved_queue_rename, name="saved_queue_rename"),
    path("queues/saved/<int:pk>/update/", queue_views.saved_queue_update, name="saved_queue_update"),
    path("queues/saved/<int:pk>/delete/", queue_views.saved_queue_delete, name="saved_queue_delete"),
    path("queues/saved/<int:pk>/share/", queue_views.saved_queue_share, name="saved_queue_share"),
    # search, the bulk bar
    path("search/", search_views.search, name="search"),
    path("bulk/", bulk_views.bulk, name="bulk"),
    # the ticket page (views), its action forms, reply locks (lock_views), merge and link (relation_views),
    # the properties panel and its undo (properties_views)
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path(f"tickets/<int:number>/<{ACTION}:action>/", views.ticket_action, name="ticket_action"),
    *(path(f"tickets/<int:number>/{page}/", view, name=name) for page, (view, name) in TICKET_PAGES.items()),
    # the properties panel (properties_views): one select saved where it stands
    path("tickets/<int:number>/properties/<slug:name>/", properties_views.save_property, name="ticket_property"),
    # its service level: the SLA plan and an agent's own due date (sla_views)
    path("tickets/<int:number>/sla/<slug:what>/", sla_views.save_sla, name="ticket_sla"),
    # files, the agent's profile
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("profile/", profile_views.profile, name="profile"),
    path("density/", density_views.set_density, name="density"),
    path("priorities.css", priority_css.priority_css, name="priority_css"),
    # tickets opened by agents (new_ticket_views) and the people lookup for their requester
    path("tickets/new/", new_ticket_views.new_ticket, name="new_ticket"),
    path("people/lookup/", people_lookup_views.people_lookup, name="people_lookup"),
    # the people directory (directory_views): people, organisations, notes, CSV import and export
    path("people/", directory_views.people, name="people"),
    path("people/import/", directory_views.people_import, name="people_import"),
    path("people/import/confirm/", directory_views.people_import_confirm, name="people_import_confirm"),
    path("people/export.csv", directory_views.people_export, name="people_export"),
    path("people/<int:user_id>/", directory_views.person, name="person"),
    path("people/<int:user_id>/edit/", directory_views.person_edit, name="person_edit"),
    path("people/<int:user_id>/notes/", directory_views.person_note, name="person_note"),
    path("people/notes/<int:note_id>/delete/", directory_views.note_delete, name="directory_note_delete"),
    path("organisations/", directory_views.organisations, name="organisations"),
    path("organisations/new/", directory_views.organisation_create, name="organisation_create"),
    path("organisations/export.csv", directory_views.organisations_export, name="organisations_export"),
    path("organisations/<int:org_id>/", directory_views.organisation, name="organisation"),
    path("organisations/<int:org_id>/edit/", directory_views.organisation_edit, name="organisation_edit"),
    path("organisations/<int:org_id>/notes/", directory_views.organisation_note, name="organisation_note"),
]
