"""common.spreadsheet.safe_cell: text a spreadsheet would run as a formula is escaped."""

from datetime import date
from decimal import Decimal

import pytest

from common.spreadsheet import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.test","x")', '\'=HYPERLINK("http://evil.test","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("  =1", "'  =1"),
        ("Acme Manufacturing", "Acme Manufacturing"),
        ("dana@acme.test", "dana@acme.test"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("value", [-5, 0, 12, 1.5, Decimal("-2.50"), None, date(2026, 1, 1), True])
def test_non_text_is_left_alone(value):
    assert safe_cell(value) is value


def test_row():
    assert safe_row(["=1", 2, "x"]) == ["'=1", 2, "x"]
