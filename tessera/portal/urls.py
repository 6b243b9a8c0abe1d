from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("t/<str:token>/", views.access, name="access"),
    path("login/", views.home, name="login"),
]
