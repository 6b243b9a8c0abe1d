"""/kb/: the knowledge base on the Help Center."""

from django.urls import path

from . import portal_views as views

app_name = "kb"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("categories/<slug:slug>/", views.category, name="category"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("articles/<slug:slug>/feedback/", views.feedback, name="feedback"),
    path("articles/<slug:slug>/answered/", views.answered, name="answered"),
    path("articles/<slug:slug>/files/<int:file_id>/", views.article_file, name="file"),
]
