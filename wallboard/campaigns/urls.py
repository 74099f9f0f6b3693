"""The supervisor's campaign panel and its forms."""

from django.urls import path

from wallboard.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("boards/<slug:slug>/campaigns/", views.panel, name="panel"),
    path("boards/<slug:slug>/campaigns/<int:pk>/action/", views.action, name="action"),
    path("boards/<slug:slug>/campaigns/<int:pk>/customers/", views.add_customer, name="add_customer"),
    path("boards/<slug:slug>/campaigns/<int:pk>/customers/remove/", views.remove_customer, name="remove_customer"),
]
