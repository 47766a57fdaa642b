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

from django.db.models import F, Func, TextField, Value
from django.db.models.functions import Coalesce

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


# --- The same, written by PostgreSQL -------------------------------------------------
# An export of a hundred thousand rows spends most of its time making a Python string
# of every cell. PostgreSQL can write each line instead, by these same rules (safe_cell's,
# and csv.writer's: the excel dialect, quoting only a cell with a quote, a comma or a
# line break); tests/insight/test_exports.py compares the two on awkward text.

_TRIGGER_CODES = ", ".join(str(ord(trigger)) for trigger in FORMULA_TRIGGERS)


class CsvCell(Func):
    """A text column as csv.writer writes ``safe_cell`` of it (NULL: empty). For text
    people typed; it reads its column several times, so it takes a column, not an
    expression with parameters."""

    output_field = TextField()

    def __init__(self, column):
        super().__init__(F(column) if isinstance(column, str) else column)

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if params:
            raise ValueError("CsvCell reads a column, not an expression with parameters.")
        text = f"COALESCE(({column})::text, '')"
        # Spreadsheets skip leading spaces before deciding that a cell is a formula.
        escaped = f"(CASE WHEN ascii(ltrim({text}, ' ')) IN ({_TRIGGER_CODES}) THEN '''' ELSE '' END || {text})"
        quoted = " OR ".join(f"strpos({text}, chr({ord(char)})) > 0" for char in '",\r\n')
        return f"""(CASE WHEN {quoted} THEN '"' || replace({escaped}, '"', '""') || '"' ELSE {escaped} END)""", []


class CsvLine(Func):
    """A row as one CSV line, "\\r\\n" ended: its cells joined by commas. Each cell is
    a CsvCell, or text of ours that needs neither quotes nor an apostrophe (a label, a
    date written by to_char): the caller says which."""

    output_field = TextField()
    arg_joiner = " || ',' || "
    template = "(%(expressions)s || E'\\r\\n')"

    def __init__(self, *cells):
        super().__init__(*(cell if isinstance(cell, CsvCell) else Coalesce(cell, Value("")) for cell in cells))
