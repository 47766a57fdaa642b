"""The issue's bound, at its size: the learners export of 100,000 learners streams
in flat memory (the rows are written with one INSERT … SELECT, not in Python)."""

from django.db import connection

LEARNERS = "/learners/export.csv"
ROWS = 100_000


def test_100000_learners_export_under_a_memory_bound(client, dana, acme):
    import tracemalloc

    with acme, connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO learners_learner (email, name, status, created_at)
            SELECT 'bulk' || lpad(n::text, 6, '0') || '@acme.test', 'Bulk Learner ' || n, 'active', now()
            FROM generate_series(1, %s) AS n
            """,
            [ROWS],
        )
    client.force_login(dana)
    tracemalloc.start()
    try:
        response = client.get(LEARNERS)
        assert response.status_code == 200 and response.streaming
        lines = size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == ROWS + 1  # the header and every learner
    assert size > ROWS * 30
    assert peak < 16 * 1024 * 1024, peak  # the 50 MB, with room to spare
