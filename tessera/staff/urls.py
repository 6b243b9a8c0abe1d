from django.urls import include, path

from . import profile, views

app_name = "staff"
urlpatterns = [
    # dashboard, queues/…: system and saved queues, counts, arrivals
    path("", include("tessera.staff.queue_views")),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("jump/", views.jump, name="jump"),
    path("", include("tessera.staff.search_views")),  # search/
    path("", include("tessera.staff.bulk_views")),  # bulk/, tickets/<n>/merge|link|unlink/ (before the catch-all)
    path("", include("tessera.staff.ticket_extras")),  # tickets/<n>/lock|unlock|presence/ (before the catch-all)
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path("tickets/<int:number>/<slug:action>/", views.ticket_action, name="ticket_action"),
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("profile/", profile.profile, name="profile"),
]
