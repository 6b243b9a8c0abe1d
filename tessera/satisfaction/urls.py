from django.urls import path

from . import views

app_name = "satisfaction"

urlpatterns = [
    path("rate/<str:token>/", views.rate, name="rate"),
]
