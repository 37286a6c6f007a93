from django.urls import path

from .helpdesk import views

urlpatterns = [
    path("customers/<int:pk>/", views.customer_detail),
    path("tickets/", views.my_tickets),
]
