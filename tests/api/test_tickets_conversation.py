"""Replies, internal notes and files through the API: base64 in JSON or multipart, and
downloads through the same policy as the workspace's."""

from __future__ import annotations

from tessera.tickets import services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, EntryKind, ThreadEntry

from .ticket_helpers import MULTIPART_CONTENT, b64, problem

URL = "/api/v1/tickets"


def test_an_agent_key_replies_and_notes(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    response = api.post(f"{base}/reply", {"message": "Try **tray 2**.", "status_id": desk.pending.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "response" and body["source"] == "api" and "<strong>tray 2</strong>" in body["body_html"]
    ken_ticket.refresh_from_db()
    assert ken_ticket.status == desk.pending and response["ETag"] == f'"{ken_ticket.number}-{ken_ticket.version}"'
    note = api.post(f"{base}/notes", {"note": "Customer is on the old firmware."})
    assert note.status_code == 201 and note.json()["kind"] == "note"


def test_a_system_key_replies_as_the_requester_but_cannot_note(client, desk, ken_ticket, system_key):
    headers = {"X-API-Key": system_key}
    base = f"{URL}/{ken_ticket.number}"
    response = client.post(
        f"{base}/reply", {"message": "Still jams."}, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    entry = ThreadEntry.objects.get(pk=response.json()["id"])
    assert entry.kind == EntryKind.MESSAGE and entry.author == desk.ken
    problem(
        client.post(f"{base}/notes", {"note": "x"}, content_type="application/json", headers=headers),
        403,
        "agent-required",
    )
    status = {"message": "Done?", "status_id": desk.resolved.pk}
    problem(
        client.post(f"{base}/reply", status, content_type="application/json", headers=headers), 403, "agent-required"
    )


def test_an_empty_or_unstorable_message_is_a_422(api, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    body = problem(api.post(f"{base}/reply", {"message": "   "}), 422, "validation")
    assert body["errors"][0]["field"] == "message"
    body = problem(api.post(f"{base}/notes", {"note": "nul \x00 inside"}), 422, "validation")
    assert body["errors"][0]["field"] == "note"
    problem(api.post(f"{base}/reply", '{"message": "\\ud800"}', content_type="application/json"), 422, "validation")


def test_files_travel_as_base64_and_come_back_through_the_policy(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    files = [{"name": "log.txt", "content_type": "text/plain", "data": b64(b"line one\n")}]
    entry = api.post(f"{base}/reply", {"message": "Log attached.", "attachments": files}).json()
    attached = entry["attachments"][0]
    assert attached["name"] == "log.txt" and attached["size"] == 9
    download = api.get(attached["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"line one\n"
    assert download["X-Content-Type-Options"] == "nosniff" and "attachment" in download["Content-Disposition"]


def test_bad_base64_and_refused_files_are_422s_naming_the_file(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    body = problem(
        api.post(f"{base}/notes", {"note": "x", "attachments": [{"name": "a.txt", "data": "%%%"}]}), 422, "validation"
    )
    assert body["errors"][0]["field"] == "attachments.0.data"
    body = problem(
        api.post(f"{base}/notes", {"note": "x", "attachments": [{"name": "run.exe", "data": b64(b"MZ")}]}),
        422,
        "validation",
    )
    assert body["errors"][0]["field"] == "attachments" and "run.exe" in body["errors"][0]["message"]
    assert not Attachment.objects.exists()


def test_multipart_uploads_make_a_reply_or_a_note(api, desk, ken_ticket, tmp_path):
    upload = tmp_path / "photo.txt"
    upload.write_bytes(b"not really a photo")
    with upload.open("rb") as handle:
        response = api.post(
            f"{URL}/{ken_ticket.number}/attachments",
            {"kind": "note", "message": "The label.", "files": [handle]},
            content_type=MULTIPART_CONTENT,
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note" and [a["name"] for a in body["attachments"]] == ["photo.txt"]
    problem(
        api.post(
            f"{URL}/{ken_ticket.number}/attachments", {"kind": "shout", "message": "x"}, content_type=MULTIPART_CONTENT
        ),
        422,
        "validation",
    )


def test_internal_files_are_hidden_from_system_keys_and_other_departments(
    client, desk, ken_ticket, system_key, bill_key
):
    entry = services.add_note(
        desk.john.user, ken_ticket, note="Contract.", uploads=[Upload("contract.txt", b"secret", "text/plain")]
    )
    url = f"{URL}/{ken_ticket.number}/attachments/{Attachment.objects.get(entry=entry).pk}"
    problem(client.get(url, headers={"X-API-Key": system_key}), 404, "not-found")
    problem(client.get(url, headers={"X-API-Key": bill_key}), 404, "not-found")
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Other", message="x", topic=desk.general)
    moved = f"{URL}/{other.number}/attachments/{Attachment.objects.get(entry=entry).pk}"
    problem(client.get(moved, headers={"X-API-Key": system_key}), 404, "not-found")


def test_a_body_over_the_size_limit_is_a_413_problem(api, ken_ticket, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    problem(api.post(f"{URL}/{ken_ticket.number}/notes", {"note": "a" * 2048}), 413, "too-large")


def test_a_file_sent_with_a_type_that_is_not_one_comes_back_as_one_a_client_can_parse(api, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    files = [
        {"name": "a.txt", "content_type": "text", "data": b64(b"one")},
        {"name": "b.pdf", "content_type": "x/", "data": b64(b"%PDF-1.4\n")},
        {"name": "c.bin", "content_type": "Text/Plain; charset=utf-8; x", "data": b64(b"three")},
    ]
    entry = api.post(f"{base}/notes", {"note": "Odd types.", "attachments": files}).json()
    types = {a["name"]: a["content_type"] for a in entry["attachments"]}
    assert types == {"a.txt": "text/plain", "b.pdf": "application/pdf", "c.bin": "text/plain"}
    for attached in entry["attachments"]:
        assert api.get(attached["url"])["Content-Type"] == types[attached["name"]]


def test_a_file_stored_with_a_malformed_type_before_types_were_checked_downloads_as_bytes(api, desk, ken_ticket):
    old = Upload("old.txt", b"old", "text/plain")
    entry = services.add_note(desk.john.user, ken_ticket, note="Old.", uploads=[old])
    stored = Attachment.objects.get(entry=entry)
    Attachment.objects.filter(pk=stored.pk).update(content_type="text")  # as an older release kept it
    download = api.get(f"{URL}/{ken_ticket.number}/attachments/{stored.pk}")
    assert download.status_code == 200 and download["Content-Type"] == "application/octet-stream"
