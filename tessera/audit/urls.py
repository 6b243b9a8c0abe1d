from django.urls import path

from . import session_views

app_name = "account_sessions"
urlpatterns = [
    path("<int:pk>/end/", session_views.end_session, name="end"),
    path("end-others/", session_views.end_other_sessions, name="end_others"),
]
