"""The CSV exports: each behind its page's guard, with its page's filters, UTF-8
with a BOM, named after the company and the day, formula-safe in every column, and
never another company's rows."""

import csv
import io
import tracemalloc
from urllib.parse import quote

import pytest
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent, Role, User
from common.downloads import FETCH_ROWS
from common.spreadsheet import FORMULA_TRIGGERS
from learners.models import Learner, LearnerStatus
from tests.builders import assigned_order, enter_manage_mode, give_seats, make_learners, make_user, order_for

LEARNERS, ORDERS, ALLOCATIONS = (
    "/learners/export.csv",
    "/licences/orders/export.csv",
    "/licences/allocations/export.csv",
)
PARTNER_ORDERS, PARTNER_ACTIVITY, ACTIVITY = (
    "/partner/licences/orders/export.csv",
    "/partner/activity/export.csv",
    "/activity/export.csv",
)


PAGES = {
    LEARNERS: "/learners/",
    ORDERS: "/licences/orders/",
    ALLOCATIONS: "/licences/orders/",
    ACTIVITY: "/activity/",
    PARTNER_ORDERS: "/partner/licences/orders/",
    PARTNER_ACTIVITY: "/partner/activity/",
}


def download(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def column(rows, name):
    index = next(i for i, title in enumerate(rows[0]) if title.startswith(name))
    return [row[index] for row in rows[1:]]


def test_learners_export_with_the_lists_search(client, dana, acme, alice):
    ids = make_learners(acme, 3, prefix="sales") + make_learners(acme, 2, prefix="ops")
    order = assigned_order(acme, 10, alice)
    give_seats(acme, order, ids[:2])
    client.force_login(dana)
    response, rows = download(client, LEARNERS)
    today = timezone.now().astimezone(acme.tzinfo).date().isoformat()
    name = f"Acme Manufacturing learners {today}.csv"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    assert rows[0] == ["Email", "Name", "Status", "Licence", "Licence expires (Europe/London)", "Added (Europe/London)"]
    assert len(rows) == 6
    assert column(rows, "Licence")[:5].count("Valid") == 2
    _, searched = download(client, LEARNERS, {"q": "OPS"})
    assert [row[0] for row in searched[1:]] == ["ops00000@acme.test", "ops00001@acme.test"]
    _, licensed = download(client, LEARNERS, {"licence": "valid"})
    assert len(licensed) == 3
    # The list page's button carries the search.
    assert 'href="/learners/export.csv?q=ops"' in client.get("/learners/", {"q": "ops"}).content.decode()


def test_orders_and_allocation_history(client, dana, acme, alice, erin, globex):
    order = assigned_order(acme, 10, alice)
    ids = make_learners(acme, 2)
    give_seats(acme, order, ids, by=dana)
    order_for(globex, erin, 40)  # another customer's
    client.force_login(dana)
    page = client.get("/licences/orders/").content.decode()
    assert "Export CSV" in page and "Export allocation history" in page
    _, orders = download(client, ORDERS)
    assert [row[0] for row in orders[1:]] == [f"#{order.pk}"]
    assert orders[1][1:4] == ["10", "2", "Assigned"]
    response, history = download(client, ALLOCATIONS)
    assert "allocation%20history" in response["Content-Disposition"]
    assert history[0][0] == "Learner"
    assert {row[0] for row in history[1:]} == {"learner00000@acme.test", "learner00001@acme.test"}
    assert {row[4] for row in history[1:]} == {"Dana"}


def test_partner_orders_export_with_the_filters(client, alice, acme, globex, dana, erin, charlie, initech, frank):
    acme_order = order_for(acme, dana, 5)
    globex_order = order_for(globex, erin, 7)
    order_for(initech, frank, 9)  # another partner's
    client.force_login(alice)
    page = client.get("/partner/licences/orders/", {"customer": acme.pk}).content.decode()
    assert f'href="/partner/licences/orders/export.csv?customer={acme.pk}"' in page and "Export CSV" in page
    _, rows = download(client, PARTNER_ORDERS)
    assert {row[0] for row in rows[1:]} == {f"#{acme_order.pk}", f"#{globex_order.pk}"}
    _, filtered = download(client, PARTNER_ORDERS, {"customer": acme.pk})
    assert [row[0] for row in filtered[1:]] == [f"#{acme_order.pk}"]
    forged = client.get(PARTNER_ORDERS, {"customer": initech.pk})
    assert forged.status_code == 302 and "export" not in forged["Location"]


def test_activity_exports_with_their_filters(client, alice, dana, acme, globex, erin, charlie, initech):
    audit.record(AuditEvent.Action.ORDER_REQUESTED, actor=dana, customer=acme, details={"order_id": 1, "quantity": 3})
    audit.record(AuditEvent.Action.ORDER_CANCELLED, actor=erin, customer=globex, details={"order_id": 2, "quantity": 4})
    audit.record(AuditEvent.Action.MANAGE_MODE_ENTERED, actor=charlie, customer=initech, in_manage_mode=True)
    client.force_login(alice)
    _, rows = download(client, PARTNER_ACTIVITY)
    assert rows[0][-1] == "What happened"
    assert sorted(column(rows, "What happened")) == [
        "Dana (Acme Manufacturing) requested 3 licences (order #1)",
        "Erin (Globex Retail) cancelled order #2 for 4 licences",
    ]
    _, filtered = download(client, PARTNER_ACTIVITY, {"customer": "globex"})
    assert column(filtered, "Customer") == ["Globex Retail"]
    page = client.get("/partner/activity/", {"customer": "globex"}).content.decode()
    assert 'href="/partner/activity/export.csv?customer=globex"' in page
    client.force_login(dana)
    _, own = download(client, ACTIVITY)
    assert column(own, "Customer") == ["Acme Manufacturing"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (LEARNERS, {"customer manager", "in manage mode"}),
        (ORDERS, {"customer manager", "in manage mode"}),
        (ALLOCATIONS, {"customer manager", "in manage mode"}),
        (ACTIVITY, {"customer manager", "in manage mode"}),
        # A partner manager's own pages stay open while managing a customer.
        (PARTNER_ORDERS, {"partner manager", "in manage mode"}),
        (PARTNER_ACTIVITY, {"partner manager", "in manage mode"}),
    ],
)
def test_each_export_checks_its_pages_guard(client, world, url, allowed):
    """The export answers whom its page answers (the page's own URL beside it)."""
    page_url = PAGES[url]
    visitors = {
        "partner manager": (world["alice"], None),
        "in manage mode": (world["alice"], world["globex"]),
        "customer manager": (world["dana"], None),
        "learner": (world["lena"], None),
    }
    assert client.get(url).status_code == 302  # anonymous: to sign-in
    for name, (user, managed) in visitors.items():
        client.force_login(user)
        if managed:
            enter_manage_mode(client, managed)
        status = client.get(url).status_code
        assert (status == 200) == (name in allowed), (name, status)
        assert status == client.get(page_url).status_code, (name, page_url)
        client.logout()


def test_every_export_reads_only_its_own_company(
    client, world, alice, acme, globex, dana, erin, frank, initech, charlie
):
    for customer, manager in ((acme, dana), (globex, erin), (initech, frank)):
        ids = make_learners(customer, 1, prefix=customer.schema_name)
        order = assigned_order(customer, 3, alice if customer.partner_id == alice.partner_id else charlie)
        give_seats(customer, order, ids)
        audit.record(
            AuditEvent.Action.ORDER_REQUESTED,
            actor=manager,
            customer=customer,
            details={"order_id": order.pk, "quantity": 3},
        )
    seen = {}
    for user, managed in ((dana, None), (alice, globex), (alice, None), (charlie, None)):
        client.force_login(user)
        if managed:
            enter_manage_mode(client, managed)
        urls = (
            (PARTNER_ORDERS, PARTNER_ACTIVITY)
            if managed is None and user.is_partner_manager
            else (LEARNERS, ORDERS, ALLOCATIONS, ACTIVITY)
        )
        text = "".join(b"".join(client.get(url).streaming_content).decode("utf-8-sig") for url in urls)
        seen[(user.email, managed.name if managed else None)] = text
        client.logout()
    assert "acme" in seen[("dana@acme.test", None)].lower() and "globex" not in seen[("dana@acme.test", None)].lower()
    assert "initech" not in seen[("dana@acme.test", None)].lower()
    in_globex = seen[("alice@northwind.test", "Globex Retail")].lower()
    assert "globex" in in_globex and "acme" not in in_globex and "initech" not in in_globex
    northwind = seen[("alice@northwind.test", None)].lower()
    assert "acme" in northwind and "globex" in northwind and "initech" not in northwind
    bluefin = seen[("charlie@bluefin.test", None)].lower()
    assert "initech" in bluefin and "acme" not in bluefin and "globex" not in bluefin


TRAPS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def assert_formula_safe(rows):
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(FORMULA_TRIGGERS), (cell, row)


def test_every_exported_column_is_formula_safe(client, partner_a, acme):
    """People's names, emails and company names are typed by people: each carries a
    formula into every export, and every cell comes out inert."""
    partner_a.name = "=Partner"
    partner_a.save()
    acme.name = "+Acme"
    acme.save()
    manager = make_user("manager@acme.test", Role.CUSTOMER_MANAGER, customer=acme)
    partner_manager = make_user("pm@northwind.test", Role.PARTNER_MANAGER, partner=partner_a)
    User.objects.filter(pk=manager.pk).update(full_name="-Manager")
    User.objects.filter(pk=partner_manager.pk).update(full_name="@Partner Manager")
    manager.refresh_from_db()
    partner_manager.refresh_from_db()
    order = assigned_order(acme, 10, partner_manager)
    order_for(acme, manager, 3)
    with acme:
        learners = [
            Learner.objects.create(email=f"{trap.strip()}{n}@acme.test", name=trap) for n, trap in enumerate(TRAPS)
        ]
        learners[0].status = LearnerStatus.DEACTIVATED
        learners[0].save()
    give_seats(acme, order, [learner.pk for learner in learners[1:]], by=manager)
    for trap in TRAPS:
        audit.record(AuditEvent.Action.TWO_FACTOR_DEVICE_ADDED, actor=manager, customer=acme, details={"device": trap})
    audit.record(
        AuditEvent.Action.ORDER_REQUESTED,
        actor=partner_manager,
        customer=acme,
        details={"order_id": order.pk, "quantity": 1},
    )

    client.force_login(manager)
    for url in (LEARNERS, ORDERS, ALLOCATIONS, ACTIVITY):
        _, rows = download(client, url)
        assert_formula_safe(rows)
        assert any(cell.startswith("'") for row in rows[1:] for cell in row), url
    _, learner_rows = download(client, LEARNERS)
    assert sorted(column(learner_rows, "Name")) == sorted("'" + trap for trap in TRAPS)
    _, history = download(client, ALLOCATIONS)
    assert set(column(history, "Allocated by")) == {"'-Manager"}
    client.force_login(partner_manager)
    for url in (PARTNER_ORDERS, PARTNER_ACTIVITY):
        _, rows = download(client, url, {"status": "any"} if url == PARTNER_ORDERS else None)
        assert_formula_safe(rows)
        assert "'+Acme" in column(rows, "Customer"), url
    _, activity_rows = download(client, PARTNER_ACTIVITY)
    assert "'@Partner Manager" in column(activity_rows, "Who")
    assert any(sentence.startswith("'-Manager (+Acme)") for sentence in column(activity_rows, "What happened"))
    _, order_rows = download(client, PARTNER_ORDERS, {"status": "any"})
    assert "'-Manager" in column(order_rows, "Requested by")


def peak_of_export(client, url) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = client.get(url)
        size = sum(len(chunk) for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 0
    return peak


def test_memory_stays_flat_whatever_the_number_of_learners(client, dana, acme, alice):
    """4,000 then 8,000 learners: twice the rows, about the same peak (the cursor
    holds a fetch or two of FETCH_ROWS, the stream one chunk); 100,000 are in
    benchmarks/exports.py."""
    make_learners(acme, 2 * FETCH_ROWS, prefix="first")
    client.force_login(dana)
    peak_of_export(client, LEARNERS)  # warm: imports, caches
    smaller = peak_of_export(client, LEARNERS)
    make_learners(acme, 2 * FETCH_ROWS, prefix="second")
    larger = peak_of_export(client, LEARNERS)
    assert larger < smaller * 1.25 + 256 * 1024, (smaller, larger)
    assert larger < 8 * 1024 * 1024


def test_file_names_follow_rfc_6266():
    from common.downloads import content_disposition

    assert content_disposition('Café Zürich "quoted" learners 2026-12-02.csv') == (
        'attachment; filename="Cafe Zurich quoted learners 2026-12-02.csv"; '
        "filename*=UTF-8''Caf%C3%A9%20Z%C3%BCrich%20%22quoted%22%20learners%202026-12-02.csv"
    )
    assert content_disposition("東京.csv").startswith("attachment; filename=\".csv\"; filename*=UTF-8''%E6%9D%B1")


def test_chunks_are_what_safe_row_and_csv_writer_write():
    """csv_chunks writes a chunk at once and goes cell by cell only where a cell could
    be a formula: the file is the one safe_row and csv.writer write row by row, for
    cells with a formula character in every place csv.writer can put one."""
    import random

    from common.downloads import BOM, csv_chunks
    from common.spreadsheet import safe_row

    pieces = [*FORMULA_TRIGGERS, " ", '"', ",", "\r\n", "a", "é", "1", "'"]
    random.seed(15)
    cells = [*TRAPS, "", "plain", "a,=b", 'x"=y', "  -3", '"=1"', "a\n=b", "=", "-", -5, 7, None, 2.5]
    cells += ["".join(random.choices(pieces, k=random.randint(1, 6))) for _ in range(400)]
    rows = [tuple(random.choices(cells, k=random.randint(1, 5))) for _ in range(600)]
    rows += [("plain", "row", 1)] * 40  # chunks without a formula as well
    header = ["Email", "=Name"]
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    for per_chunk in (1, 7, 50, 1000):
        chunks = list(csv_chunks(header, iter(rows), rows_per_chunk=per_chunk))
        assert b"".join(chunks).decode("utf-8") == BOM + expected.getvalue(), per_chunk
        assert len(chunks) == max(1, -(-len(rows) // per_chunk))
    assert b"".join(csv_chunks(header, iter([]))).decode("utf-8") == BOM + "Email,'=Name\r\n"
    # One formula alone in a chunk of plain rows, in each place a row can put it.
    plain = ("plain", "a,b", 'say "hi"')
    for trap in [*TRAPS, "  =1", "\n=1", '=a "b"', "-1,5"]:
        for place in range(3):
            rows = [plain] * 3 + [plain[:place] + (trap,) + plain[place + 1 :]] + [plain] * 3
            expected = io.StringIO()
            csv.writer(expected).writerows(safe_row(row) for row in [header, *rows])
            written = b"".join(csv_chunks(header, iter(rows), rows_per_chunk=7)).decode("utf-8")
            assert written == BOM + expected.getvalue(), (trap, place)


AWKWARD = [
    *TRAPS,
    *FORMULA_TRIGGERS,
    "a,b",
    'say "hi"',
    "two\r\nlines",
    "  =1",
    " - x",
    "'=quoted already",
    " ",
    "é東",
    '"=q"',
    ",=",
    "a\tb",
    '=a,"b"\n',
    "plain",
]


def test_postgresql_writes_the_learners_lines_python_would(client, dana, acme, alice):
    """The learners export's lines come whole from PostgreSQL (common.spreadsheet.
    CsvLine): byte for byte what safe_row and csv.writer write from the same values,
    for text people type with formula characters, quotes, commas and line breaks in
    every place; the columns of ours never need quotes nor an apostrophe."""
    from common.spreadsheet import safe_cell, safe_row
    from insight import exports

    order = assigned_order(acme, 40, alice)
    with acme:
        made = [Learner.objects.create(email=f"{text}{n}@acme.test", name=text) for n, text in enumerate(AWKWARD)]
        Learner.objects.filter(pk=made[0].pk).update(status=LearnerStatus.DEACTIVATED)
    give_seats(acme, order, [learner.pk for learner in made[1::2]])
    client.force_login(dana)
    response = client.get(LEARNERS)
    body = b"".join(response.streaming_content).decode("utf-8")
    with acme:
        rows = list(exports._learner_rows(acme, "", "").values_list(*exports.LEARNER_COLUMNS))
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(safe_row(column.format(tz=acme.time_zone) for column in exports.LEARNER_HEADER))
    for row in rows:
        writer.writerow(safe_row(row))
    assert body == "\ufeff" + expected.getvalue()
    assert len(rows) == len(AWKWARD)
    ours = {value for row in rows for value in row[2:]}
    ours |= set(exports.LICENCE_STATES.values()) | {status.title() for status in LearnerStatus.values}
    assert {"Valid", "No licence", "Deactivated"} <= ours
    for value in ours:
        assert safe_cell(value) == value and not any(char in value for char in '",\r\n'), value
