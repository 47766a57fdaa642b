"""Arbitrary bytes through every step of a CSV import: each step gives a result or a
message for the manager (CsvError / LearnerError), never another exception, and a
file refused at upload is never stored."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learners import csv_files, imports
from learners.error_codes import LearnerError
from learners.models import CsvUpload

# Bytes that look like CSV often enough to get past the upload checks: text cells
# with delimiters, quotes, line breaks, NULs and control characters, in several
# encodings, with or without a byte-order mark; and plain random bytes.
CELLS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["a@acme.test", "Email", '"', '""', ",", ";", "\t", "\r\n", "\x00", "=1+1", "é"]
)
ROWS = st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=8)


@st.composite
def csv_like(draw):
    rows = draw(ROWS)
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    text = "\r\n".join(delimiter.join(row) for row in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data


FILES = csv_like() | st.binary(max_size=300)


def read_everything(data: bytes):
    """The steps that need no database: upload checks, then everything the pages read."""
    try:
        shape = csv_files.inspect(data)
    except csv_files.CsvError as error:
        assert str(error)
        return None
    rows = list(csv_files.iter_rows(data, shape.encoding, shape.delimiter))
    assert len(rows) == shape.row_count
    sample = csv_files.sample_rows(data, shape.encoding, shape.delimiter, limit=5)
    assert 0 <= csv_files.guess_email_column(shape.columns, sample) < len(shape.columns)
    csv_files.guess_name_column(shape.columns)
    return shape


@settings(max_examples=400, deadline=None)
@given(FILES)
def test_reading_any_bytes_gives_rows_or_a_message(data):
    read_everything(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=FILES, column=st.integers(min_value=-1, max_value=5))
def test_every_import_step_on_any_bytes_gives_a_result_or_a_message(acme, dana, alice, data, column):
    with acme:
        stored_before = CsvUpload.objects.count()
    try:
        upload = imports.store_upload(
            acme, SimpleUploadedFile("fuzz.csv", data), CsvUpload.Purpose.IMPORT_ALLOCATION, acting_user=dana
        )
    except csv_files.CsvError as error:
        assert str(error)
        with acme:
            assert CsvUpload.objects.count() == stored_before
        return
    steps = [
        lambda: imports.preview_import_allocation(acme, upload, column),
        lambda: imports.import_allocation_report(acme, upload, column),
        lambda: imports.import_allocation(acme, upload, column, acting_user=dana),
        lambda: imports.import_learners(acme, upload, column, acting_user=dana),
    ]
    for step in steps:
        try:
            result = step()
        except LearnerError as error:
            assert str(error) and error.code
            continue
        if isinstance(result, str):  # the report of rows not renewed
            list(csv.reader(io.StringIO(result)))
