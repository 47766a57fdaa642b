"""Reading the CSV files that real people send.

Managers export these from Excel, Google Sheets, HR systems and mail merges, so a
file may be UTF-8 with or without a byte-order mark, Windows-1252 / ISO-8859-1, or
UTF-16 with a BOM ("Unicode text"); comma, semicolon or tab separated; with quoted
fields holding commas and line breaks; with blank lines. The first non-blank row
names the columns.

Everything that can be refused is refused here, before anything changes, with a
message a manager can act on (``CsvError``). The file is parsed with Python's csv
module one row at a time: nothing holds more than the file's bytes and its decoded
text (both bounded by ``CSV_UPLOAD_MAX_BYTES``).
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from common.errors import ServiceError
from learners.error_codes import CsvErrorCode

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# What the email checks in SQL accept too (learners.services.EMAIL_PATTERN_SQL).
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]+$")
EMAIL_HEADER = re.compile(r"e[\s_-]?mail", re.IGNORECASE)
NAME_HEADER = re.compile(r"^(full[\s_-]?)?name$|^(display|learner|user)[\s_-]?name$", re.IGNORECASE)
NOT_TEXT = "This is not a text CSV file. Save your spreadsheet as CSV and upload that file."
# csv refuses fields over 128 KiB by default; one cell may be as big as the file.
csv.field_size_limit(64 * 1024 * 1024)


class CsvError(ServiceError):
    """The file cannot be used; ``str(error)`` says why, in the manager's words."""

    default_code = CsvErrorCode.INVALID_CSV


@dataclass(frozen=True)
class CsvShape:
    encoding: str
    delimiter: str
    columns: list[str]
    row_count: int


def looks_like_email(value: str) -> bool:
    return len(value) <= 254 and EMAIL_PATTERN.match(value) is not None


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if not data:
        raise CsvError("The file is empty.", code=CsvErrorCode.EMPTY_FILE)
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8-sig", data[len(codecs.BOM_UTF8) :]
        candidates = ("utf-8",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, candidates = "utf-16", ("utf-16",)
    elif b"\x00" in data:
        # Mostly-ASCII UTF-16 has a NUL in every other byte, and only there.
        odd, even = data[1:400:2], data[0:400:2]
        if min(odd.count(0), even.count(0)) == 0 and max(odd.count(0), even.count(0)) >= len(odd) * 0.9:
            raise CsvError(
                "This file looks like UTF-16 text without a byte-order mark. "
                "Save it from your spreadsheet as “CSV UTF-8” and upload it again.",
                code=CsvErrorCode.WRONG_ENCODING,
            )
        raise CsvError(NOT_TEXT, code=CsvErrorCode.NOT_TEXT)
    else:
        encoding, candidates = None, ("utf-8", "cp1252", "latin-1")
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        encoding = encoding or candidate
        break
    else:
        raise CsvError(
            f"The file says it is {encoding.upper()} but is not. Save it as “CSV UTF-8” and try again.",
            code=CsvErrorCode.WRONG_ENCODING,
        )
    _refuse_binary(text)
    return text, encoding


def _refuse_binary(text: str) -> None:
    """Text files hold almost no control characters; binary ones (spreadsheets
    saved as .xlsx, images, PDFs) are full of them. A NUL anywhere is refused (the
    whole text is searched: PostgreSQL cannot store one), the other control
    characters are counted in the first 64 KiB."""
    sample = text[:65536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\x0c\x1a")
    if "\x00" in text or controls > max(2, len(sample) // 200):
        raise CsvError(NOT_TEXT, code=CsvErrorCode.NOT_TEXT)


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)


def _is_blank(record: list[str]) -> bool:
    return not "".join(record).strip()


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header row into the most columns: the header
    is the one row we know must hold several names when the file has several
    columns. Ties go to the comma."""
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        header = next((r for r in _records(text[:65536], delimiter) if not _is_blank(r)), None)
        width = len(header) if header else 0
        if width > best_width:
            best, best_width = delimiter, width
    return best


def column_names(header: list[str]) -> list[str]:
    names, seen = [], {}
    for index, raw in enumerate(header):
        name = " ".join(raw.split()) or f"Column {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def inspect(data: bytes, *, max_rows: int | None = None) -> CsvShape:
    """Decode, find the delimiter and header, and count the rows: every refusal
    happens here, at upload time."""
    max_rows = max_rows or settings.CSV_UPLOAD_MAX_ROWS
    text, encoding = decode(data)
    delimiter = detect_delimiter(text)
    records = _records(text, delimiter)
    try:
        header = next((r for r in records if not _is_blank(r)), None)
        if header is None:
            raise CsvError("The file has no rows: it is empty or holds only blank lines.", code=CsvErrorCode.NO_ROWS)
        max_columns = settings.CSV_UPLOAD_MAX_COLUMNS
        if len(header) > max_columns:
            raise CsvError(
                f"The file has {len(header):,} columns; files can have at most {max_columns:,}. "
                "Keep the email column (and the name, if you like) and upload it again.",
                code=CsvErrorCode.TOO_MANY_COLUMNS,
            )
        if any(looks_like_email(cell.strip()) for cell in header):
            raise CsvError(
                "The first row holds an email address, not column names. Add a header row "
                "(for example “Email,Name”) at the top of the file and upload it again.",
                code=CsvErrorCode.NO_HEADER,
            )
        rows = 0
        for record in records:
            if not _is_blank(record):
                rows += 1
                if rows > max_rows:
                    raise CsvError(
                        f"The file has more than {max_rows:,} rows. Split it into files of at most "
                        f"{max_rows:,} rows and upload them one at a time.",
                        code=CsvErrorCode.TOO_MANY_ROWS,
                    )
    except csv.Error as error:
        raise CsvError(f"The file is not valid CSV (line {records.line_num}: {error}).") from None
    if rows == 0:
        raise CsvError("The file has a header row but no rows under it.", code=CsvErrorCode.NO_ROWS)
    return CsvShape(encoding=encoding, delimiter=delimiter, columns=column_names(header), row_count=rows)


def iter_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` for every non-blank row under the header. The row
    number is the row a spreadsheet shows for it (the header is row 1, blank lines
    count), so a manager can find it in the file."""
    text = data.decode(encoding)
    records = _records(text, delimiter)
    number = 0
    for record in records:
        number += 1
        if not _is_blank(record):
            break
    for record in records:
        number += 1
        if not _is_blank(record):
            yield number, record


def guess_email_column(shape_columns: list[str], sample: list[list[str]]) -> int:
    """The column whose name says email; failing that, the one holding the most
    email addresses in the first rows."""
    for index, name in enumerate(shape_columns):
        if EMAIL_HEADER.search(name):
            return index
    scores = [0] * len(shape_columns)
    for row in sample:
        for index, cell in enumerate(row[: len(shape_columns)]):
            if looks_like_email(cell.strip()):
                scores[index] += 1
    return max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else 0


def guess_name_column(shape_columns: list[str]) -> int | None:
    for index, name in enumerate(shape_columns):
        if NAME_HEADER.search(name.strip()):
            return index
    return None


def sample_rows(data: bytes, encoding: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    rows = []
    for _, record in iter_rows(data, encoding, delimiter):
        rows.append(record)
        if len(rows) >= limit:
            break
    return rows
