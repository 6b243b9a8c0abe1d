from django.urls import path, register_converter

from . import views


class OwnerKind:
    """ "user" or "organization": whose answers a person panel shows."""

    regex = "user|organization"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OwnerKind, "cf_owner")

app_name = "customfields"
urlpatterns = [
    path("topic/", views.topic_fields, name="topic_fields"),
    path("tickets/<int:number>/", views.ticket_values, name="ticket_values"),
    path("tickets/<int:number>/<slug:key>/", views.ticket_field, name="ticket_field"),
    path("<cf_owner:kind>/<int:pk>/", views.person_values, name="person_values"),
    path("<cf_owner:kind>/<int:pk>/<slug:key>/", views.person_field, name="person_field"),
]
