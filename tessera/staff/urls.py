from django.urls import path

from . import profile, views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("queues/<slug:slug>/", views.queue, name="queue"),
    path("jump/", views.jump, name="jump"),
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path("tickets/<int:number>/<slug:action>/", views.ticket_action, name="ticket_action"),
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("profile/", profile.profile, name="profile"),
]
