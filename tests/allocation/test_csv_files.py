"""CSV files as real people send them, and every refusal, with a clear message."""

import codecs

import pytest

from learners import csv_files
from learners.csv_files import CsvError, inspect, iter_rows

ROWS = [["Name", "Email"], ["Zoë Ærø", "zoe@acme.test"], ["Renée O'Brien", "renee@acme.test"]]


def as_csv(rows, delimiter=",", newline="\r\n"):
    return newline.join(delimiter.join(row) for row in rows) + newline


@pytest.mark.parametrize(
    "encoded, encoding",
    [
        (as_csv(ROWS).encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + as_csv(ROWS).encode("utf-8"), "utf-8-sig"),
        (as_csv(ROWS).encode("cp1252"), "cp1252"),
        (as_csv(ROWS).replace("Æ", "Ä").encode("latin-1") + "naïve\x8d".encode("latin-1"), "latin-1"),
        (as_csv(ROWS).encode("utf-16"), "utf-16"),  # with its BOM, little-endian here
        (codecs.BOM_UTF16_BE + as_csv(ROWS).encode("utf-16-be"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "latin1", "utf16le-bom", "utf16be-bom"],
)
def test_every_encoding_reads_the_same_rows(encoded, encoding):
    shape = inspect(encoded)
    assert shape.encoding == encoding
    assert shape.columns == ["Name", "Email"]
    rows = list(iter_rows(encoded, shape.encoding, shape.delimiter))
    assert rows[0][1][1] == "zoe@acme.test"
    assert rows[1][1][0] == "Renée O'Brien"
    if encoding != "latin-1":
        assert rows[0][1][0] == "Zoë Ærø"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab(delimiter):
    shape = inspect(as_csv(ROWS, delimiter).encode())
    assert shape.delimiter == delimiter
    assert shape.columns == ["Name", "Email"] and shape.row_count == 2


def test_quoted_fields_with_commas_and_newlines_blank_lines_and_row_numbers():
    data = b'Email,Note\n\n"a@acme.test","one, two"\n\n\nb@acme.test,"line 1\nline 2, still"\n  ,  \nc@acme.test,\n'
    shape = inspect(data)
    assert shape.row_count == 3
    rows = list(iter_rows(data, shape.encoding, shape.delimiter))
    # Row numbers as a spreadsheet shows them: the header is row 1, blank lines count.
    assert rows == [
        (3, ["a@acme.test", "one, two"]),
        (6, ["b@acme.test", "line 1\nline 2, still"]),
        (8, ["c@acme.test", ""]),
    ]


def test_semicolon_file_whose_names_hold_commas():
    data = as_csv([["Name", "Email"], ['"Doe, Jane"', "jane@acme.test"]], ";").encode()
    shape = inspect(data)
    assert shape.delimiter == ";"
    assert list(iter_rows(data, shape.encoding, ";"))[0][1] == ["Doe, Jane", "jane@acme.test"]


def test_blank_and_repeated_column_names_get_names():
    assert inspect(b"Email,,Email\na@acme.test,x,y\n").columns == ["Email", "Column 2", "Email (2)"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty."),
        (b"\n\n \n", "The file has no rows"),
        (b"Email,Name\n", "The file has a header row but no rows under it."),
        (b"Email,Name\n\n,\n", "The file has a header row but no rows under it."),
        (b"a@acme.test,Ann\nb@acme.test,Bob\n", "The first row holds an email address, not column names."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This is not a text CSV file."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a text CSV file."),
        ("Email\na@acme.test\n".encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
        (codecs.BOM_UTF8 + b"Email\n\xff\xfe@x\n", "The file says it is UTF-8-SIG but is not."),
        (bytes(range(1, 32)) * 50, "This is not a text CSV file."),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "header-and-blank-rows",
        "no-header",
        "png",
        "xlsx",
        "utf16-no-bom",
        "bad-utf8-bom",
        "control-characters",
    ],
)
def test_refusals(data, message):
    with pytest.raises(CsvError, match=message.replace(".", r"\.").replace("(", r"\(")):
        inspect(data)


def test_more_rows_than_the_cap_is_refused():
    data = ("Email\n" + "".join(f"u{n}@acme.test\n" for n in range(11))).encode()
    assert inspect(data, max_rows=11).row_count == 11
    with pytest.raises(CsvError, match="more than 10 rows"):
        inspect(data, max_rows=10)


def test_the_email_column_is_guessed_by_its_name_then_by_its_content():
    assert csv_files.guess_email_column(["Name", "E-mail address", "Dept"], []) == 1
    assert csv_files.guess_email_column(["Name", "Work"], [["Ann", "ann@acme.test"], ["Bob", "bob@acme.test"]]) == 1
    assert csv_files.guess_name_column(["Email", "Full name"]) == 1
    assert csv_files.guess_name_column(["Email", "Dept"]) is None


@pytest.mark.parametrize(
    "email, ok",
    [
        ("a@acme.test", True),
        ("first.last+tag@sub.acme.co.uk", True),
        ("bad", False),
        ("a@b", False),
        ("a b@acme.test", False),
        ("a@@acme.test", False),
        ("", False),
        ("x" * 250 + "@a.io", False),
    ],
)
def test_what_counts_as_an_email(email, ok):
    assert csv_files.looks_like_email(email) is ok
