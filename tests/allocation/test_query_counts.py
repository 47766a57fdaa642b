"""The Expired Licences tab and Select All run a number of SQL statements that does
not grow with the learners."""

from learners import imports, reads
from tests.builders import CaptureStatements, assigned_order, expired_learners_of


def count_queries(action) -> int:
    """Statements run, not counting django-tenants' SET search_path."""
    with CaptureStatements() as captured:
        action()
    return len(captured.statements)


def test_the_expired_licences_tab_costs_the_same_for_5_or_300_learners(client, alice, dana, acme):
    assigned_order(acme, 10, alice)
    client.force_login(dana)
    expired_learners_of(acme, 5, alice, prefix="few")
    few = count_queries(lambda: client.get("/licences/expired/"))
    expired_learners_of(acme, 295, alice, prefix="many")
    assigned_order(acme, 10, alice)  # a second seat source too
    many = count_queries(lambda: client.get("/licences/expired/", {"q": "many", "page": 3}))
    assert few == many
    # session, user (with their customer), the customer's orders (seat sources, and
    # whether its lapses are recorded since its last expiry), the page of learners
    assert many == 4


def test_select_all_costs_the_same_for_10_or_1000_learners(client, alice, dana, acme):
    client.force_login(dana)
    expired_learners_of(acme, 10, alice, prefix="few")
    assigned_order(acme, 11, alice)  # a seat left over, as below: emptying the pool is an event of its own
    few = count_queries(lambda: client.post("/licences/expired/renew/", {"select_all": "on"}))
    expired_learners_of(acme, 1000, alice, prefix="many")
    assigned_order(acme, 400, alice)
    assigned_order(acme, 700, alice)
    many = count_queries(lambda: client.post("/licences/expired/renew/", {"select_all": "on"}))
    assert few == many
    with acme:
        assert not reads.expired_learners().exists()


def test_csv_preview_and_renewal_cost_the_same_for_10_or_2000_rows(alice, dana, acme):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from learners.models import CsvUpload

    def csv_of(prefix, n):
        rows = "".join(f"{prefix}{i:05d}@acme.test\n" for i in range(n))
        return imports.store_upload(
            acme,
            SimpleUploadedFile("f.csv", ("Email\n" + rows).encode()),
            CsvUpload.Purpose.IMPORT_ALLOCATION,
            acting_user=dana,
        )

    expired_learners_of(acme, 10, alice, prefix="few")
    expired_learners_of(acme, 2000, alice, prefix="many")
    assigned_order(acme, 3000, alice)
    small, big = csv_of("few", 10), csv_of("many", 2000)
    assert count_queries(lambda: imports.preview_import_allocation(acme, small, 0)) == count_queries(
        lambda: imports.preview_import_allocation(acme, big, 0)
    )
    assert count_queries(lambda: imports.import_allocation(acme, small, 0, acting_user=dana)) == count_queries(
        lambda: imports.import_allocation(acme, big, 0, acting_user=dana)
    )
    with acme:
        assert not reads.expired_learners().exists()
