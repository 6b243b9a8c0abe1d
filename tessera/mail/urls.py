"""Workspace pages about email (under /staff/mail/)."""


app_name = "mail"
urlpatterns: list = []
