"""API tokens: the secret is shown once and stored only as a hash; a token acts as
its partner and dies when revoked, expired, when its creator leaves or is
deactivated, or when the partner is deactivated; a read token cannot write; the
session (manage mode included) counts for nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, Role
from api.models import ApiToken
from api.tokens import create_token, hash_token, revoke_token
from licences.models import LicenceOrder
from tests.builders import api_get, api_post, enter_manage_mode, make_token, make_user, order_for

WRITES = [
    ("/customers", {"name": "Nope Ltd"}),
    ("/customers/{acme}/orders", {"quantity": 5}),
    ("/orders/{order}/assign", None),
    ("/orders/{order}/cancel", None),
    ("/customers/{acme}/learners", {"email": "new@acme.test"}),
    ("/customers/{acme}/learners/1/deactivate", None),
    ("/customers/{acme}/allocations/allocate", {"learner_ids": [1]}),
    ("/customers/{acme}/allocations/renew-expired", {"select_all": True}),
]


def test_the_secret_is_recognisable_and_only_its_hash_is_kept(alice):
    made = create_token(alice.partner, name="PSA", scope="read", acting_user=alice)
    assert made.secret.startswith(f"lic_{made.token.key_id}_")
    stored = ApiToken.objects.get(pk=made.token.pk)
    assert stored.secret_hash == hash_token(made.secret)
    assert made.secret not in str(ApiToken.objects.filter(pk=stored.pk).values().get())
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_CREATED)
    assert (event.actor, event.partner, event.details["token"]) == (alice, alice.partner, stored.prefix)


def test_a_live_token_reads_and_records_its_last_use(client, alice, acme):
    token = make_token(alice, "read")
    assert ApiToken.objects.get().last_used_at is None
    response = api_get(client, "/customers", token)
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["items"]] == ["Acme Manufacturing"]
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Basic YWxpY2U6cGFzcw==", "Bearer lic_000000000000_wrong-secret"],
)
def test_no_token_or_a_wrong_one_is_401(client, db, header):
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"


def test_a_right_key_id_with_a_wrong_secret_is_401(client, alice, acme):
    token = make_token(alice)
    forged = token[: token.rindex("_") + 1] + "x" * 43
    assert api_get(client, "/customers", forged).status_code == 401


def test_a_revoked_token_stops_at_once(client, alice, bob, acme):
    token = make_token(alice)
    paths = ["/customers", f"/customers/{acme.pk}/learners"]  # a path naming a customer is read with the token
    assert [api_get(client, path, token).status_code for path in paths] == [200, 200]
    revoke_token(alice.partner, ApiToken.objects.get().pk, acting_user=bob)
    assert [api_get(client, path, token).status_code for path in paths] == [401, 401]
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_REVOKED)
    assert event.actor == bob


def test_an_expired_token_is_refused(client, alice, acme):
    token = make_token(alice, expires_at=timezone.now() + timedelta(days=30))
    assert api_get(client, "/customers", token).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        assert api_get(client, "/customers", token).status_code == 401
        assert api_get(client, f"/customers/{acme.pk}/learners", token).status_code == 401


@pytest.mark.parametrize("change", ["creator_deactivated", "creator_moved", "partner_deactivated"])
def test_a_token_dies_with_its_creators_membership_or_its_partner(client, alice, acme, partner_b, change):
    token = make_token(alice)
    if change == "creator_deactivated":
        alice.is_active = False
        alice.save()
    elif change == "creator_moved":
        alice.partner = partner_b
        alice.save()
    else:
        acme.partner.is_active = False
        acme.partner.save()
    assert api_get(client, "/customers", token).status_code == 401
    assert api_get(client, f"/customers/{acme.pk}/learners", token).status_code == 401


def test_only_the_partners_managers_make_tokens(alice, dana, charlie):
    from django.core.exceptions import PermissionDenied

    for outsider in (dana, charlie):
        with pytest.raises(PermissionDenied):
            create_token(alice.partner, name="x", scope="read", acting_user=outsider)


@pytest.mark.parametrize("path,body", WRITES)
def test_a_read_token_cannot_write(client, alice, alice_read_token, acme, path, body):
    order = order_for(acme, alice, 5)
    before = (LicenceOrder.objects.count(), AuditEvent.objects.count())
    url = path.format(acme=acme.pk, order=order.pk)
    for key in (None, "retry-1"):  # with an Idempotency-Key too
        response = api_post(client, url, alice_read_token, body, key=key)
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "insufficient_scope"
    assert (LicenceOrder.objects.count(), AuditEvent.objects.count()) == before


def test_the_session_counts_for_nothing(client, alice, charlie, acme, initech):
    """A browser in manage mode on Acme, calling with Bluefin's token: Bluefin's
    customer is served from its own schema, and Acme is not found."""
    client.force_login(alice)
    enter_manage_mode(client, acme)
    token = make_token(charlie)
    assert client.get("/api/v1/customers").status_code == 401  # the session alone is nobody
    learners = api_get(client, f"/customers/{initech.pk}/learners", token)
    assert learners.status_code == 200 and learners.json()["items"] == []
    assert api_get(client, f"/customers/{acme.pk}/learners", token).status_code == 404


def test_a_customer_manager_cannot_make_a_token(dana):
    from django.core.exceptions import PermissionDenied

    other = make_user("eve@acme.test", Role.CUSTOMER_MANAGER, customer=dana.customer)
    with pytest.raises(PermissionDenied):
        create_token(dana.customer.partner, name="x", scope="read", acting_user=other)
