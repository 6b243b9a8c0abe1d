"""/staff/kb/: the knowledge base in the workspace, and the reply box's picker."""

from django.urls import path

from . import staff_views as views

app_name = "kb_staff"
urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_create, name="create"),
    path("preview/", views.preview, name="preview"),
    path("picker/", views.picker_search, name="picker"),
    path("picker/<int:pk>/", views.picker_article, name="picker_article"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<int:pk>/", views.category_edit, name="category"),
    path("files/<int:file_id>/", views.article_file, name="file"),
    path("<int:pk>/", views.article_edit, name="edit"),
    path("<int:pk>/delete/", views.article_delete, name="delete"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/history/<int:version_id>/", views.version, name="version"),
]
