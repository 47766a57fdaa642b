"""Uploads over the cap are refused with their real size, and what is past the cap is
never stored."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from common.uploads import SizeCappedUploadHandler
from learners.models import CsvUpload

MB = 1_048_576


@override_settings(CSV_UPLOAD_MAX_BYTES=MB)
def test_oversized_csv_is_refused_with_its_size(client, dana, acme):
    client.force_login(dana)
    big = SimpleUploadedFile("users.csv", b"Email\n" + b"someone@acme.test\n" * (3 * MB // 18), "text/csv")
    response = client.post("/licences/expired/import-allocation/", {"file": big})
    assert response.status_code == 200
    assert "The file is 3.0 MB; files can be at most 1 MB." in response.content.decode()
    with acme:
        assert not CsvUpload.objects.exists()


@override_settings(CSV_UPLOAD_MAX_BYTES=10)
def test_handler_keeps_nothing_past_the_cap():
    handler = SizeCappedUploadHandler()
    handler.new_file("file", "users.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"  # under the cap: passed on
    assert handler.receive_data_chunk(b"6789012345", 5) is None  # past it: swallowed
    oversized = handler.file_complete(15)
    assert oversized.size == 15
    assert oversized.read() == b""


@override_settings(CSV_UPLOAD_MAX_BYTES=10)
def test_handler_leaves_small_files_to_the_next_handler():
    handler = SizeCappedUploadHandler()
    handler.new_file("file", "users.csv", "text/csv", None)
    handler.receive_data_chunk(b"0123456789", 0)
    assert handler.file_complete(10) is None
