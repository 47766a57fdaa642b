"""Bad input gets a clear answer and changes nothing, never a 500 (rule 7): what a
probe of the running product found, each case pinned."""

import io
import re

import pytest
import requests
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.models import User
from learners import csv_files
from learners.models import CsvUpload
from licences.forms import RequestLicencesForm
from tests.builders import PASSWORD, enter_manage_mode

TOKEN_URLS = [
    "/learners/import/{}/",
    "/imports/{}/",
    "/imports/{}/progress/",
    "/licences/expired/import-allocation/{}/",
    "/licences/expired/import-allocation/{}/not-renewed.csv",
    "/licences/expired/import-allocation/{}/renew/",
    "/licences/expired/import-allocation/{}/status/",
    "/licences/expired/import-allocation/{}/progress/",
    "/licences/expiring/import-allocation/{}/",
    "/licences/expiring/import-allocation/{}/not-renewed.csv",
    "/licences/expiring/import-allocation/{}/renew/",
    "/licences/expiring/import-allocation/{}/status/",
    "/licences/expiring/import-allocation/{}/progress/",
]
FORGED_TOKENS = ["%00", "abc%00def" * 3, "x" * 1000, "%C3%A9" * 20, "A" * 43]


@pytest.mark.parametrize("url", TOKEN_URLS)
@pytest.mark.parametrize("token", FORGED_TOKENS)
def test_a_forged_upload_token_is_a_404(client, dana, acme, url, token):
    client.force_login(dana)
    send = client.post if url.endswith("/renew/") else client.get
    assert send(url.format(token)).status_code == 404


def upload(client, data, name="users.csv"):
    return client.post("/licences/expired/import-allocation/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_a_nul_byte_after_the_first_64_kib_is_refused_at_upload(client, dana, acme):
    client.force_login(dana)
    """A byte-order mark skipped the NUL check, and only the first 64 KiB were looked at."""
    rows = "".join(f"learner{n:06d}@acme.test\r\n" for n in range(4000))
    data = b"\xef\xbb\xbfEmail\r\n" + rows.encode() + b"late\x00nul@acme.test\r\n"
    assert len(data) > 65536
    response = upload(client, data)
    assert response.status_code == 200
    assert "This is not a text CSV file" in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()


def test_too_many_columns_are_refused_with_the_cap(client, dana, acme, settings):
    client.force_login(dana)
    settings.CSV_UPLOAD_MAX_COLUMNS = 200
    wide = ",".join(["Email", *(f"c{n}" for n in range(200))]).encode() + b"\na@acme.test\n"
    response = upload(client, wide)
    assert "The file has 201 columns; files can have at most 200." in response.content.decode()
    fits = ",".join(["Email", *(f"c{n}" for n in range(199))]).encode() + b"\na@acme.test\n"
    assert upload(client, fits).status_code == 302


def test_a_file_one_byte_over_the_cap_says_so_in_bytes(client, dana, acme, settings):
    client.force_login(dana)
    settings.CSV_UPLOAD_MAX_BYTES = 1_048_576
    response = upload(client, b"Email\n" + b"a" * (1_048_576 - 5))
    text = response.content.decode()
    assert "The file is 1,048,577 bytes; files can be at most 1 MB (1,048,576 bytes)." in text
    assert "1.0 MB; files can be at most 1 MB" not in text


def test_a_thousand_character_file_name_gets_a_page_that_says_what_to_do(live_server, tenant_transactional_db, dana):
    """Django refuses a form part whose headers pass 1 KiB before any view runs; the
    400 page then says why and what to do, instead of a bare "Bad Request"."""
    session = requests.Session()
    session.get(f"{live_server.url}/accounts/login/")
    form = {"username": dana.email, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    session.post(f"{live_server.url}/accounts/login/", data=form, headers={"Referer": live_server.url})
    response = session.post(
        f"{live_server.url}/licences/expired/import-allocation/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files={"file": ("a" * 1000 + ".csv", b"Email\na@acme.test\n", "text/csv")},
        headers={"Referer": live_server.url},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "The upload could not be read" in response.text
    assert "Rename the file to something short" in response.text


@pytest.mark.parametrize("raw", ["１２", "١٢", "1\u00a0000", "1_000", "1.000", "12 ", "0x10"])
def test_only_ascii_digits_make_a_quantity(raw, settings):
    form = RequestLicencesForm({"quantity": raw})
    if raw == "12 ":  # surrounding spaces are trimmed
        assert form.is_valid() and form.cleaned_data["quantity"] == 12
    else:
        assert not form.is_valid()
        assert form.errors["quantity"] == ["Enter a whole number of licences, such as 25."]


def test_the_quantity_help_says_exactly_what_is_accepted():
    help_text = RequestLicencesForm().fields["quantity"].help_text
    assert "digits 0 to 9" in help_text and "1,500 or 1 500" in help_text


@pytest.mark.parametrize("who", ["dana", "lena"])
def test_a_deactivated_companys_people_are_told_why_and_whom_to_contact(client, acme, alice, dana, lena, who):
    acme.is_active = False
    acme.save(update_fields=["is_active"])
    client.force_login({"dana": dana, "lena": lena}[who])
    for url in ("/licences/", "/learners/", "/learn/"):
        response = client.get(url)
        assert response.status_code == 403
        text = response.content.decode()
        assert "Acme Manufacturing is deactivated" in text
        assert "Northwind Security" in text and alice.email in text


def test_an_ordinary_refusal_says_no_access_without_naming_anyone(client, dana, alice, initech):
    client.force_login(dana)
    response = client.get("/partner/companies/")
    assert response.status_code == 403
    assert "No access to this page" in response.content.decode()
    assert alice.email not in response.content.decode()


def test_create_user_without_a_password_emails_a_link_to_choose_one(acme, settings):
    settings.SITE_URL = "https://licences.example.org"
    call_command(
        "create_user",
        "new.manager@acme.test",
        role="customer_manager",
        customer="Acme Manufacturing",
        stdout=io.StringIO(),
    )
    user = User.objects.get(email="new.manager@acme.test")
    assert user.customer == acme and not user.has_usable_password()
    [email] = mail.outbox
    assert email.to == ["new.manager@acme.test"]
    link = re.search(r"https://licences\.example\.org/accounts/reset/\S+/", email.body)
    assert link, email.body


def test_create_user_finds_the_customer_by_name_schema_or_id(acme):
    for n, value in enumerate(["acme manufacturing", "acme", str(acme.pk)]):
        call_command(
            "create_user",
            f"learner{n}@acme.test",
            role="learner",
            customer=value,
            password="x" * 12,
            stdout=io.StringIO(),
        )
    assert User.objects.filter(customer=acme, role="learner").count() == 3
    assert not mail.outbox  # a password was given: no email


def test_the_csv_reader_refuses_a_nul_anywhere():
    with pytest.raises(csv_files.CsvError, match="not a text CSV"):
        csv_files.inspect(b"\xef\xbb\xbfEmail\n" + b"a@acme.test\n" * 10_000 + b"\x00\n")


def test_manage_mode_upload_of_a_binary_file_changes_nothing(client, alice, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    response = upload(client, b"PK\x03\x04" + bytes(range(256)) * 50, name="users.xlsx")
    assert "This is not a text CSV file" in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()
