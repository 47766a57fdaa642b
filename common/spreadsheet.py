"""Cells written to CSV files that people open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or line break before
one) is read by Excel, LibreOffice and Google Sheets as a formula, so a customer or
learner name such as ``=HYPERLINK(...)`` would run when an operator opens a report
(OWASP "CSV injection"). Text cells like that are prefixed with an apostrophe, which
spreadsheets show as plain text. Numbers, dates and None are left alone: they are
written by us, not typed by users, and a negative number must stay a number.
"""

from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` made safe to put in a CSV cell; text that could be a formula gets a
    leading apostrophe, anything that is not text is returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    # Spreadsheets skip leading spaces before deciding that a cell is a formula.
    if value.startswith(FORMULA_TRIGGERS) or value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


_FIRST_LOOK = frozenset(FORMULA_TRIGGERS) | {" "}


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A whole row through ``safe_cell``, for ``csv.writer.writerow``. Exports run it
    on every row, so the first character is looked at here and only the few cells
    that could be a formula take the call."""
    return [
        safe_cell(value) if isinstance(value, str) and value and value[0] in _FIRST_LOOK else value for value in values
    ]
