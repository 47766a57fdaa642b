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
