"""ticketgate.django in a real Django project (settings, models, views, templates) through
Django's test client: detail pages, a list page of 50, a queue colleague, a suspended agent."""

import os
from datetime import datetime, timedelta, timezone
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoproject.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

import ticketgate  # noqa: E402
import ticketgate.django as tg  # noqa: E402
from djangoproject.helpdesk.models import Customer, Profile, Ticket  # noqa: E402

call_command("migrate", run_syncdb=True, verbosity=0)
NOW = datetime.now(timezone.utc)


def agent(name: str, **profile: Any) -> User:
    u = User.objects.create(username=name)
    shift = {"start": (NOW - timedelta(hours=4)).isoformat(), "end": (NOW + timedelta(hours=4)).isoformat()}
    Profile.objects.create(user=u, teams="billing", shift=shift, **profile)
    return u


@pytest.fixture(scope="module")
def world() -> Any:
    alice, bob, carol = agent("alice"), agent("bob"), agent("carol")
    jane = Customer.objects.create(name="Jane Doe", email="jane.doe@example.com", phone="+1 555-555-1234")
    t = Ticket.objects.create(customer=jane, assignee=alice, queue="billing", created=NOW - timedelta(hours=1))
    for i in range(50):
        c = Customer.objects.create(name=f"Customer {i}", email=f"c{i}@example.com", phone="555-555-0000")
        Ticket.objects.create(customer=c, assignee=carol, queue="billing", created=NOW - timedelta(hours=1))
    return {"alice": alice, "bob": bob, "carol": carol, "jane": jane, "ticket": t}


def page(user: User, url: str) -> str:
    c = Client()
    c.force_login(user)
    r = c.get(url)
    assert r.status_code == 200, r.content
    return r.content.decode()


def test_the_assignee_sees_the_record_and_a_colleague_sees_masks(world: Any) -> None:
    html = page(world["alice"], f"/customers/{world['jane'].pk}/")
    assert "Jane Doe" in html and "jane.doe@example.com" in html
    assert "+1 ***-***-1234" in html  # no callback scheduled: the phone stays masked
    assert 'class="reveal"' in html and "data-decision=" in html
    html = page(world["bob"], f"/customers/{world['jane'].pk}/")
    assert "J*** D**" in html and "Jane Doe" not in html
    assert "\u2014" in html and "None" not in html  # ticket numbers withheld: an em dash


def test_a_list_page_of_50_shows_masks_and_is_not_counted(world: Any) -> None:
    html = page(world["carol"], "/tickets/")
    assert html.count("<li>") == 50
    assert "Customer 7" not in html and "C******* 7" in html
    # the detail page afterwards still reveals: previews did not count toward the hard limit
    t = Ticket.objects.filter(assignee=world["carol"]).first()
    assert f"Customer {t.customer_id - world['jane'].pk - 1}" in page(world["carol"], f"/customers/{t.customer_id}/")


def test_view_many_is_view_row_by_row_and_raises_a_bad_row(world: Any) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/tickets/")
    request.user = world["carol"]
    tickets = list(Ticket.objects.filter(assignee=world["carol"]).select_related("customer")[:5])
    rows = [({"name": t.customer.name, "phone": t.customer.phone},
             {"customer": {"id": t.customer_id, "segment": "consumer", "vip": False, "employee": False},
              "ticket": {"id": t.pk, "customer": t.customer_id, "assignee": t.assignee_id, "queue": t.queue,
                         "status": "open", "opened_at": t.created}}) for t in tickets]
    many = tg.view_many(request, rows, intent="preview")
    one = [tg.view(request, record, intent="preview", **kw) for record, kw in rows]
    assert [dict(v) for v in many] == [dict(v) for v in one] and len(many) == 5
    assert all(v.decision.outcome("name") == "mask" for v in many)
    bad = rows[:2] + [(rows[2][0], {**rows[2][1], "purpose": "curiosity"})]
    with pytest.raises(ticketgate.InvalidRequest) as e:
        tg.view_many(request, bad)
    assert e.value.key == "[2].purpose"


def test_a_suspended_agent_sees_nothing(world: Any) -> None:
    alice = world["alice"]
    alice.is_active = False
    alice.save()
    try:
        c = Client()
        c.force_login(alice)
        # an inactive user is logged out by Django's auth; the gate also withholds on its own
        v = tg.gate().view(
            {**tg.access(type("R", (), {"user": alice, "ticketgate": {}})(), customer={"id": 1, "segment": "consumer", "vip": False, "employee": False})},
            {"name": "Jane Doe"},
        )
        assert v == {"name": None}
    finally:
        alice.is_active = True
        alice.save()


def test_the_gate_is_one_per_process_and_audits_to_segments(world: Any) -> None:
    assert tg.gate() is tg.gate()
    report = ticketgate.verify_audit([os.path.join(django.conf.settings.BASE, "audit")])
    assert report["records"] > 50


def test_the_middleware_takes_the_address_the_trusted_proxy_saw() -> None:
    from django.test import RequestFactory, override_settings

    seen = tg.TicketgateMiddleware(lambda r: r.ticketgate["source_ip"])
    # the client wrote the left end itself; the proxy appended the address it saw
    spoofed = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}
    conf = django.conf.settings.TICKETGATE
    assert seen(RequestFactory().get("/", **spoofed)) == "10.0.0.2"  # no proxy trusted
    with override_settings(TICKETGATE={**conf, "trusted_proxy": True}):
        assert seen(RequestFactory().get("/", **spoofed)) == "198.51.100.7"
    with override_settings(TICKETGATE={**conf, "trusted_proxy": 2}):
        assert seen(RequestFactory().get("/", **spoofed)) == "203.0.113.9"


def test_a_restarted_worker_with_the_memory_store_restores_from_the_trail(tmp_path: Any) -> None:
    from django.test import override_settings

    made = tg._gate
    conf = {"audit_log": str(tmp_path) + "/", "client": "helpdesk-web"}
    try:
        with override_settings(TICKETGATE=conf):
            tg._gate = None
            tg.gate().suspend("mallory", "sold customer data")
            tg.gate().close()
            tg._gate = None  # the next deploy
            assert [s["employee"] for s in tg.gate().suspended()] == ["mallory"]
            tg.gate().close()
        with override_settings(TICKETGATE={**conf, "restore": False}):
            tg._gate = None
            assert tg.gate().suspended() == []
            tg.gate().close()
    finally:
        tg._gate = made
