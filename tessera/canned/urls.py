"""/staff/canned/: managing canned responses, and the reply box's picker for one ticket."""

from django.urls import path

from . import views

app_name = "canned"
urlpatterns = [
    path("", views.response_list, name="list"),
    path("new/", views.response_create, name="create"),
    path("<int:pk>/", views.response_edit, name="edit"),
    path("<int:pk>/delete/", views.response_delete, name="delete"),
    path("files/<int:file_id>/", views.response_file, name="file"),
    path("ticket/<int:number>/", views.picker_search, name="picker"),
    path("ticket/<int:number>/<int:pk>/", views.picker_render, name="render"),
]
