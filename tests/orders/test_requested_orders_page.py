"""The partner's Licences section → Orders tab → Requested Orders, with the guide's labels."""

from datetime import UTC, datetime

import time_machine

from accounts.models import Role
from licences.services import assign_order
from tests.builders import REQUESTED_ORDERS, make_user, order_for


def test_labels_of_the_guide(client, world):
    client.force_login(world["alice"])
    page = client.get(REQUESTED_ORDERS).content.decode()
    assert '<a href="/partner/licences/orders/" class="active">Licences</a>' in page  # the main navigation
    assert (
        '<nav class="tabs" aria-label="Licences"><a href="/partner/licences/orders/" aria-current="page">Orders</a>'
        in page
    )
    assert '<h2 id="requested-orders">Requested Orders</h2>' in page
    assert '<span aria-hidden="true">+</span> Add Filter</a>' in page
    assert "No orders are waiting to be assigned." in page


def test_reachable_out_of_manage_mode_only_by_partner_managers(client, world):
    for who, status in [("alice", 200), ("charlie", 200), ("dana", 403), ("lena", 403)]:
        client.force_login(world[who])
        assert client.get(REQUESTED_ORDERS).status_code == status, who


def test_names_typed_by_people_are_escaped(client, world):
    acme = world["acme"]
    acme.name = '<script>alert("acme")</script>'
    acme.save()
    sneaky = make_user("sneaky@acme.test", Role.CUSTOMER_MANAGER, customer=acme)
    sneaky.full_name = '<img src=x onerror="alert(1)">'
    sneaky.save()
    order_for(acme, sneaky, 3)
    client.force_login(world["alice"])
    page = client.get(REQUESTED_ORDERS).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;acme&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    opened = client.get(REQUESTED_ORDERS, {"filters": "open"}).content.decode()
    assert "<script>alert" not in opened


def test_requested_and_expiry_times_in_each_customers_zone(client, world):
    moment = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    london = order_for(world["acme"], world["dana"], 1, requested_at=moment)
    berlin = order_for(world["globex"], world["erin"], 2, requested_at=moment)
    with time_machine.travel(moment, tick=False):
        assign_order(berlin.pk, acting_user=world["alice"])
    client.force_login(world["alice"])
    page = client.get(REQUESTED_ORDERS, {"status": "any"}).content.decode()
    assert f"<tr><td>#{london.pk}</td>" in page
    assert '<time datetime="2026-01-15T23:30:00+00:00">15 Jan 2026, 23:30</time>' in page  # London
    assert '<time datetime="2026-01-16T00:30:00+01:00">16 Jan 2026, 00:30</time>' in page  # Berlin
    assert '<time datetime="2027-01-16T00:30:00+01:00">16 Jan 2027, 00:30</time>' in page  # Berlin expiry
