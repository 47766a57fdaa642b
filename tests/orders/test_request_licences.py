"""Request Licences: in manage mode (guide, Step 1) and as the customer's manager."""

from django.core import mail

from accounts.models import AuditEvent
from licences.models import LicenceOrder, OrderStatus
from tests.builders import enter_manage_mode

ORDERS = "/licences/orders/"
REQUEST = "/licences/orders/request/"


def test_orders_tab_has_the_request_licences_button(client, alice, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    response = client.get(ORDERS)
    assert b'href="/licences/orders/request/">Request Licences</a>' in response.content


def test_request_form_has_the_guide_labels(client, alice, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    page = client.get(REQUEST).content.decode()
    assert '<label for="id_quantity">Number of licences</label>' in page
    assert '<button type="submit" class="btn btn-primary">Save</button>' in page
    assert 'maxlength="20"' in page and 'max="100000"' in page


def test_partner_manager_requests_in_manage_mode(client, alice, bob, acme, dana, django_capture_on_commit_callbacks):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUEST, {"quantity": "25"}, follow=True)

    order = LicenceOrder.objects.get()
    assert (order.customer, order.quantity, order.status, order.requested_by) == (acme, 25, "requested", alice)
    assert order.assigned_at is None and order.expires_at is None
    assert response.redirect_chain == [(ORDERS, 302)]
    assert f"Order #{order.pk} for 25 licences requested." in response.content.decode()
    # It shows as requested on the customer's Orders tab...
    assert b'<span class="badge badge-requested">Requested</span>' in response.content
    # ... and in the partner's Requested Orders, once out of manage mode.
    client.post("/partner/manage/exit/")
    assert f"<tr><td>#{order.pk}</td>" in client.get("/partner/licences/orders/").content.decode()
    # The partner ordered it itself: nobody is emailed that a request is waiting.
    assert mail.outbox == []


def test_customer_manager_requests_and_the_partner_managers_are_emailed(
    client, alice, bob, charlie, dana, acme, django_capture_on_commit_callbacks
):
    bob.is_active = False
    bob.save()
    client.force_login(dana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUEST, {"quantity": "1,500"}, follow=True)

    order = LicenceOrder.objects.get()
    assert (order.customer, order.quantity, order.requested_by) == (acme, 1500, dana)
    assert "Northwind Security has been told and will assign it." in response.content.decode()
    [email] = mail.outbox
    assert email.to == ["alice@northwind.test"]  # active managers of acme's partner only
    assert email.subject == "Acme Manufacturing requested 1500 licences"
    assert "/partner/licences/orders/" in email.body
    assert email.alternatives[0][1] == "text/html"


def test_request_is_audited_with_manage_mode_flag(client, alice, dana, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    client.post(REQUEST, {"quantity": "3"})
    client.force_login(dana)
    client.post(REQUEST, {"quantity": "4"})

    events = AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_REQUESTED).order_by("at")
    assert [(e.actor, e.customer, e.in_manage_mode, e.details["quantity"]) for e in events] == [
        (alice, acme, True, 3),
        (dana, acme, False, 4),
    ]
    assert {e.details["order_id"] for e in events} == set(LicenceOrder.objects.values_list("pk", flat=True))


def test_partner_manager_out_of_manage_mode_cannot_request(client, alice, acme):
    client.force_login(alice)
    assert client.post(REQUEST, {"quantity": "5"}).status_code == 403
    assert not LicenceOrder.objects.exists()


def test_learner_cannot_request(client, lena):
    client.force_login(lena)
    assert client.post(REQUEST, {"quantity": "5"}).status_code == 403
    assert not LicenceOrder.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in(client, acme):
    response = client.post(REQUEST, {"quantity": "5"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not LicenceOrder.objects.exists()


def test_new_order_is_listed_first_on_the_orders_tab(client, dana, acme, globex, erin):
    client.force_login(erin)
    client.post(REQUEST, {"quantity": "9"})  # another customer's: not on acme's tab
    client.force_login(dana)
    client.post(REQUEST, {"quantity": "7"})
    client.post(REQUEST, {"quantity": "8"})
    page = client.get(ORDERS).context["page"]
    assert [(o.quantity, o.status) for o in page] == [(8, OrderStatus.REQUESTED), (7, OrderStatus.REQUESTED)]
