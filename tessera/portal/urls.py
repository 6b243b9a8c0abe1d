from django.urls import path

from . import organisation_views, profile_views, registration_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("opened/", views.opened, name="opened"),
    path("status/", views.status, name="status"),
    path("status/sent/", views.status_sent, name="status_sent"),
    path("t/<str:token>/", views.access, name="access"),
    path("t/<str:token>/files/<int:attachment_id>/", views.access_file, name="access_file"),
    path("tickets/", views.my_tickets, name="my_tickets"),
    path("tickets/organisation/", organisation_views.organisation_tickets, name="organisation_tickets"),
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path("tickets/<int:number>/files/<int:attachment_id>/", views.ticket_file, name="ticket_file"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("register/", registration_views.register, name="register"),
    path("register/sent/", registration_views.register_sent, name="register_sent"),
    path("register/<str:token>/", registration_views.register_verify, name="register_verify"),
    path("profile/", profile_views.profile, name="profile"),
]
