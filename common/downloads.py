"""CSV downloads that people open in a spreadsheet.

- every cell goes through ``spreadsheet.safe_row`` (formula-safe), or PostgreSQL
  wrote the line by the same rules (``spreadsheet.CsvLine``);
- UTF-8 with a byte-order mark, so Excel reads names with accents right;
- named after the company and the day, with an RFC 6266 ``filename*`` for names
  that are not plain ASCII (and a plain ``filename`` beside it for old clients);
- streamed: rows come from an iterator (a server-side cursor: ``.iterator(chunk_size=…)``)
  and leave in chunks of a few hundred, so memory stays flat whatever the size.

A streamed response is iterated after the middleware has returned, when the
connection is back in the public schema: ``tenant`` (a customer) is entered for the
whole stream, so a tenant's rows are read from its own schema to the last one."""

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from datetime import date
from urllib.parse import quote

from django.http import StreamingHttpResponse

from common.spreadsheet import safe_row

BOM = "\ufeff"
ROWS_PER_CHUNK = 500  # ~50 KB a chunk: few writes, little memory
# Rows a server-side cursor fetches at a time (Django's .iterator(chunk_size=…)).
FETCH_ROWS = 2_000


def export_filename(company: str, what: str, day: date) -> str:
    """ "Acme Manufacturing learners 2026-12-02.csv"."""
    return f"{company} {what} {day.isoformat()}.csv"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact name as ``filename*``
    (RFC 6266 / RFC 5987: UTF-8, percent-encoded)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._ -]+", "", plain).strip() or "export.csv"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Where written CSV text may hold a cell that safe_row would change: one starting,
# after spaces, with a formula character. csv.writer writes every cell right after
# the start of the text, the end of the line before it or the comma before it, behind
# a quote when it quotes it, so no such cell escapes these; a comma or a line break
# inside a quoted cell, or a negative number, may match too, which only costs that
# chunk a second writing, cell by cell. (Three patterns, each starting with a
# literal: an alternation would read the text several times slower.)
_FORMULA_CELL = r'"? *[=+\-@\t\r\n]'
_FIRST_CELL = re.compile(_FORMULA_CELL)
_CELL_AFTER_COMMA = re.compile("," + _FORMULA_CELL)
_CELL_AFTER_LINE = re.compile("\n" + _FORMULA_CELL)


def _may_hold_a_formula(text: str) -> bool:
    return bool(_FIRST_CELL.match(text) or _CELL_AFTER_COMMA.search(text) or _CELL_AFTER_LINE.search(text))


def _written(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_chunks(
    header: Iterable[str], rows: Iterable, *, rows_per_chunk: int = ROWS_PER_CHUNK, lines: bool = False
) -> Iterator[bytes]:
    """The file as UTF-8 byte chunks: the BOM and the header first, then the rows,
    every cell formula-safe. Each chunk's rows are written at once and read over for
    a cell that could be a formula; only a chunk with one goes through safe_row (a
    hundred thousand rows of names and emails: a third of the export's time).
    ``lines``: the rows are lines PostgreSQL wrote by the same rules
    (common.spreadsheet.CsvLine), joined as they are."""
    first = BOM + _written([safe_row(header)])
    rows = iter(rows)
    while batch := list(itertools.islice(rows, rows_per_chunk)):
        if lines:
            text = "".join(batch)
        else:
            text = _written(batch)
            if _may_hold_a_formula(text):
                text = _written(map(safe_row, batch))
        yield (first + text).encode("utf-8")
        first = ""
    if first:
        yield first.encode("utf-8")


def _stream(header, make_rows, tenant, lines):
    with tenant if tenant is not None else nullcontext():
        yield from csv_chunks(header, make_rows(), lines=lines)


def csv_download(
    filename: str, header: Iterable[str], make_rows: Callable[[], Iterable], *, tenant=None, lines: bool = False
):
    """A streamed CSV download. ``make_rows`` is called when the stream starts (inside
    ``tenant``'s schema when given) and returns the rows as an iterator (``lines``:
    of lines written by PostgreSQL, see csv_chunks)."""
    response = StreamingHttpResponse(
        _stream(list(header), make_rows, tenant, lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "no-store"
    return response
