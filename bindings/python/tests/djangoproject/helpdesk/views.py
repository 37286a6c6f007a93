from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

import ticketgate.django as tg

from .models import Customer, Ticket

STATUS = {1: "open", 2: "open", 3: "solved", 4: "closed"}


def facts(c: Customer):
    return {"id": c.pk, "segment": c.segment, "vip": c.vip, "employee": False}


def ticket_facts(t: Ticket):
    return {"id": t.pk, "customer": t.customer_id, "assignee": t.assignee_id, "queue": t.queue,
            "status": STATUS[t.status], "opened_at": t.created, "closed_at": t.closed}


def record(c: Customer, tickets):
    return {"name": c.name, "email": c.email, "phone": c.phone,
            "ticket_numbers": [f"TCK-{t.pk:06d}" for t in tickets]}


@login_required
def customer_detail(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    tickets = list(customer.ticket_set.all())
    ticket = next((t for t in tickets if t.assignee_id == request.user.pk), tickets[0] if tickets else None)
    view = tg.view(request, record(customer, tickets), customer=facts(customer),
                   ticket=ticket_facts(ticket) if ticket else None)
    return render(request, "helpdesk/customer.html", {"card": view})


@login_required
def my_tickets(request):
    tickets = Ticket.objects.filter(assignee=request.user).select_related("customer")
    rows = tg.view_many(request, [(record(t.customer, [t]), {"customer": facts(t.customer), "ticket": ticket_facts(t)})
                                  for t in tickets], intent="preview")
    return render(request, "helpdesk/list.html", {"rows": rows})
