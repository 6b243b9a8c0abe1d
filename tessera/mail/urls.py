"""Workspace pages about email (under /staff/mail/)."""

from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("received/<int:pk>/", views.original, name="original"),
]
