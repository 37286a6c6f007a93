from django.apps import AppConfig


class TicketgateConfig(AppConfig):
    name = "ticketgate.django"
    label = "ticketgate"
    verbose_name = "ticketgate"
