"""The local outbox (/outbox/) shows every email the file backend wrote, password-reset
links included: only an operator may read it, also with DEBUG on."""

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

from accounts.models import Role, User
from tests.builders import sign_in_with_code

PASSWORD = "outbox-test-password-2026"
RESET_LINK = "http://127.0.0.1:8000/accounts/reset/MQ/secret-token/"


@pytest.fixture
def outbox(settings, tmp_path):
    """The outbox switched on as DEBUG switches it on locally, holding a reset email."""
    settings.DEBUG = True
    settings.LOCAL_OUTBOX_ENABLED = True
    settings.EMAIL_FILE_PATH = str(tmp_path)
    reset = EmailMessage(
        "Reset your Licences password", f"Choose a new password here:\n\n{RESET_LINK}\n", to=["dana@acme.test"]
    )
    EmailBackend(file_path=str(tmp_path)).send_messages([reset])
    return tmp_path


@pytest.fixture
def operator(db):
    return User.objects.create_user("olivia@licences.test", PASSWORD, role=Role.OPERATOR)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@licences.test", PASSWORD)


def test_an_operator_reads_the_outbox(client, outbox, operator):
    client.force_login(operator)
    response = client.get("/outbox/")
    assert response.status_code == 200
    assert RESET_LINK in response.content.decode()


def test_a_superuser_reads_the_outbox(client, outbox, superuser):
    sign_in_with_code(client, superuser)  # staff give a two-factor code before any page
    response = client.get("/outbox/")
    assert response.status_code == 200
    assert RESET_LINK in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, outbox):
    response = client.get("/outbox/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/outbox/"


@pytest.mark.parametrize("who", ["alice", "dana", "lena"])
def test_partner_and_customer_people_may_not_read_it(client, outbox, world, who):
    client.force_login(world[who])
    response = client.get("/outbox/")
    assert response.status_code == 403
    assert RESET_LINK not in response.content.decode()


def test_switched_off_it_does_not_exist_even_for_an_operator(client, outbox, operator, settings):
    settings.LOCAL_OUTBOX_ENABLED = False
    client.force_login(operator)
    assert client.get("/outbox/").status_code == 404
