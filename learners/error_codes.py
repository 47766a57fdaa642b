"""Stable codes of the errors the learner and seat services raise, beside the
messages the pages show (the API returns the code)."""

from enum import StrEnum

from common.errors import ServiceError


class LearnerErrorCode(StrEnum):
    INVALID_EMAIL = "invalid_email"
    ALREADY_LEARNER = "already_learner"
    ALREADY_DEACTIVATED = "already_deactivated"
    INVALID_COLUMN = "invalid_column"
    IMPORT_ALREADY_QUEUED = "import_already_queued"
    SEATS_CHANGED = "seats_changed"
    STALE_PREVIEW = "stale_preview"
    INVALID_WINDOW = "invalid_window"
    ORDER_NOT_LATER = "order_not_later"


class LearnerError(ServiceError):
    """A request about learners or seats that cannot be carried out; nothing changed."""


class StalePreview(LearnerError):
    """The seats or learners changed since the manager's preview; nothing was renewed."""

    default_code = LearnerErrorCode.STALE_PREVIEW

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        super().__init__(
            "Licences or learners have changed since your preview, so nothing was renewed. "
            "Check the new figures below and click Renew Licences again."
        )


class CsvErrorCode(StrEnum):
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    NOT_TEXT = "not_text_csv"
    WRONG_ENCODING = "wrong_encoding"
    NO_ROWS = "no_rows"
    NO_HEADER = "no_header_row"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_COLUMNS = "too_many_columns"
    INVALID_CSV = "invalid_csv"
