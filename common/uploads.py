from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class SizeCappedUploadHandler(FileUploadHandler):
    """Stops storing an uploaded file once it passes the upload cap, but keeps counting
    its bytes. Nothing past the cap reaches memory or disk, and the form still learns
    how large the file was, so it can say so (the size check lives in the form)."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.CSV_UPLOAD_MAX_BYTES:
            return None  # swallowed: the handlers after this one never see it
        return raw_data

    def file_complete(self, file_size):
        if self.received <= settings.CSV_UPLOAD_MAX_BYTES:
            return None  # the next handler (memory or temporary file) has it all
        oversized = SimpleUploadedFile(self.file_name, b"", content_type=self.content_type)
        oversized.size = self.received
        return oversized


MB = 1_048_576


def too_large(size: int) -> str | None:
    """Why a file of ``size`` bytes is refused, or None when it is within the cap: one
    wording for the upload form and the service that stores the file. When the sizes
    would read the same rounded to megabytes, they are given in bytes."""
    limit = settings.CSV_UPLOAD_MAX_BYTES
    if size <= limit:
        return None
    shown, cap = f"{size / MB:.1f} MB", f"{limit / MB:.0f} MB"
    if float(f"{size / MB:.1f}") <= limit / MB:
        shown, cap = f"{size:,} bytes", f"{cap} ({limit:,} bytes)"
    return f"The file is {shown}; files can be at most {cap}. Split it and upload the parts one at a time."
