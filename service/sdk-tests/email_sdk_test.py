"""azure-communication-email 1.1.0, unchanged, against MediaCore's local service over TLS, with
delivery into a real SMTP sink (smtp_sink.py, aiosmtpd).

Usage: email_sdk_test.py deliver CONNECTION_STRING SERVICE_DB SINK_DIR
       email_sdk_test.py relay-down CONNECTION_STRING SERVICE_DB
"deliver" runs while the sink is up: begin_send(...).result() with cc, bcc, reply-to, custom
headers, both bodies and an attachment must arrive in SINK_DIR intact; a repeated operation_id
sends once; bad input is a 400; a recipient the relay refuses makes a Failed operation; a wrong
key is a 401. "relay-down" runs after the sink was stopped: the send must end Failed. Delivery
reports are read from the service's outbox (SERVICE_DB) until webhooks deliver them. Every call
prints what it returned. Ends with "email-sdk: N passed, M failed"; exits non-zero on a failure.
"""

import base64
import email
import email.policy
import glob
import json
import os
import re
import sqlite3
import sys
import time
import uuid

from azure.communication.email import EmailClient
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from harness import check, expect, finish, show

MODE, CONN, DB = sys.argv[1], sys.argv[2], sys.argv[3]
SINK = sys.argv[4] if len(sys.argv) > 4 else None
SENDER = "DoNotReply@mediacore.test"
ATTACHMENT = b"MediaCore quarterly figures\nline 2\x00\xff binary tail"
client = EmailClient.from_connection_string(CONN)


def message(subject, to="someone@example.test", **extra):
    m = {
        "senderAddress": SENDER,
        "recipients": {"to": [{"address": to, "displayName": "Someone"}]},
        "content": {"subject": subject, "plainText": "plain body of " + subject},
    }
    m.update(extra)
    return m


def reports(operation_id, n, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(DB) as db:
            rows = db.execute("SELECT subject, data FROM outbox WHERE event_type = ?",
                              ("Microsoft.Communication.EmailDeliveryReportReceived",)).fetchall()
        found = [(s, json.loads(d)) for s, d in rows if json.loads(d)["messageId"] == operation_id]
        if len(found) >= n or time.time() > deadline:
            return found


def operation_row(operation_id):
    with sqlite3.connect(DB) as db:
        return db.execute("SELECT status, error FROM email_operations WHERE id = ?", (operation_id,)).fetchone()


def sink_messages():
    """(envelope, parsed message) for every message in the sink, oldest first."""
    out = []
    for meta in sorted(glob.glob(os.path.join(SINK, "*.json"))):
        with open(meta) as f:
            envelope = json.load(f)
        with open(meta[:-5] + ".eml", "rb") as f:
            parsed = email.message_from_bytes(f.read(), policy=email.policy.default)
        out.append((envelope, parsed))
    return out


def wait_for_sink(subject, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        found = [(e, m) for e, m in sink_messages() if m["Subject"] == subject]
        if found or time.time() > deadline:
            return found
        time.sleep(0.05)


def expect_failed(poller, what):
    try:
        out = poller.result()
    except HttpResponseError as e:
        show("result() raised", f"{type(e).__name__}: {str(e).splitlines()[0]}")
        expect(poller.status(), "Failed", f"{what}: poller status")
        return
    raise AssertionError(f"{what}: result() returned {out!r}, expected a failure")


def deliver():
    state = {}

    @check("begin_send(...).result() with cc, bcc, reply-to, headers, html and an attachment")
    def _():
        msg = message(
            "MediaCore quarterly",
            recipients={
                "to": [{"address": "alice@example.test", "displayName": "Alice"}],
                "cc": [{"address": "carol@example.test", "displayName": "Carol"}],
                "bcc": [{"address": "bob@example.test"}],
            },
            content={"subject": "MediaCore quarterly", "plainText": "See the attached figures.",
                     "html": "<p>See the <b>attached</b> figures.</p>"},
            replyTo=[{"address": "replies@mediacore.test", "displayName": "Replies"}],
            headers={"x-mediacore-test": "email-sdk", "Importance": "high"},
            attachments=[{"name": "figures.bin", "contentType": "application/octet-stream",
                          "contentInBase64": base64.b64encode(ATTACHMENT).decode()}],
        )
        poller = client.begin_send(msg)
        show("initial status", poller.status())
        out = poller.result()
        show("result", out)
        expect(out["status"], "Succeeded", "status")
        state["id"] = out["id"]

    @check("the message arrived in the SMTP sink with its attachment, cc in headers, bcc only in the envelope")
    def _():
        found = wait_for_sink("MediaCore quarterly")
        expect(len(found), 1, "messages in the sink")
        envelope, m = found[0]
        show("envelope", envelope)
        show("headers", {k: m[k] for k in ["From", "To", "Cc", "Reply-To", "Message-ID", "x-mediacore-test"]})
        expect(envelope["mail_from"], SENDER, "MAIL FROM")
        expect(sorted(envelope["rcpt_tos"]), ["alice@example.test", "bob@example.test", "carol@example.test"], "RCPT TO")
        expect(m["From"], SENDER, "From")
        expect(m["To"], "Alice <alice@example.test>", "To")
        expect(m["Cc"], "Carol <carol@example.test>", "Cc")
        expect(m["Bcc"], None, "Bcc header")
        expect(m["Reply-To"], "Replies <replies@mediacore.test>", "Reply-To")
        expect(m["x-mediacore-test"], "email-sdk", "custom header")
        expect(m["Importance"], "high", "custom header")
        expect(m["Message-ID"], f"<{state['id']}@mediacore.test>", "Message-ID")
        if b"bob@example.test" in m.as_bytes():
            raise AssertionError("the bcc address is in the message")
        body = m.get_body(preferencelist=("plain",)).get_content()
        html = m.get_body(preferencelist=("html",)).get_content()
        expect((body.strip(), html.strip()), ("See the attached figures.", "<p>See the <b>attached</b> figures.</p>"), "bodies")
        attachments = list(m.iter_attachments())
        show("attachments", [(a.get_filename(), a.get_content_type(), len(a.get_content())) for a in attachments])
        expect([(a.get_filename(), a.get_content_type(), a.get_content()) for a in attachments],
               [("figures.bin", "application/octet-stream", ATTACHMENT)], "attachment")

    @check("one Delivered EmailDeliveryReportReceived per recipient (to, cc, bcc)")
    def _():
        found = reports(state["id"], 3)
        for s, d in found:
            show("event", f"subject={s} recipient={d['recipient']} status={d['status']} "
                          f"details={d['deliveryStatusDetails']}")
        expect(sorted(d["recipient"] for _, d in found),
               ["alice@example.test", "bob@example.test", "carol@example.test"], "recipients")
        expect({(d["status"], d["sender"], d["internetMessageId"]) for _, d in found},
               {("Delivered", SENDER, f"<{state['id']}@mediacore.test>")}, "report fields")
        expect({s for s, _ in found}, {f"sender/{SENDER}/message/{state['id']}"}, "subject")

    @check("a repeated operation_id sends once and answers the first operation")
    def _():
        op = str(uuid.uuid4())
        first = client.begin_send(message("repeat once"), operation_id=op).result()
        again = client.begin_send(message("repeat once"), operation_id=op).result()
        show("results", (first, again))
        expect((first["id"], again["id"], again["status"]), (op, op, "Succeeded"), "ids")
        time.sleep(0.3)
        expect(len(wait_for_sink("repeat once")), 1, "messages in the sink")
        try:
            client.begin_send(message("repeat once, other body"), operation_id=op)
        except HttpResponseError as e:
            show("different body raised", f"{type(e).__name__} {e.status_code} {e.error.code if e.error else None}")
            expect(e.status_code, 409, "status")
            return
        raise AssertionError("a different message under the same operation_id was accepted")

    @check("invalid input is a 400 HttpResponseError with the ACS error body")
    def _():
        bad = {
            "recipient address": message("bad", to="not-an-address"),
            "sender address": dict(message("bad"), senderAddress="nobody"),
            "attachment base64": message("bad", attachments=[{"name": "a.txt", "contentType": "text/plain",
                                                              "contentInBase64": "%%% not base64"}]),
            "no recipients": dict(message("bad"), recipients={"to": []}),
        }
        for what, msg in bad.items():
            try:
                client.begin_send(msg)
            except HttpResponseError as e:
                show(what, f"{e.status_code} {e.error.code if e.error else None}: {e.error.message if e.error else None}")
                expect((e.status_code, e.error.code if e.error else None), (400, "BadRequest"), what)
                continue
            raise AssertionError(f"{what}: accepted")

    @check("a recipient the relay refuses makes a Failed operation and a Failed report")
    def _():
        poller = client.begin_send(message("refused", to="rejected@example.test"))
        expect_failed(poller, "refused recipient")
        op = poller.polling_method().resource()
        show("operation", op)
        found = reports(op["id"], 1)
        for s, d in found:
            show("event", f"recipient={d['recipient']} status={d['status']} details={d['deliveryStatusDetails']}")
        expect([d["status"] for _, d in found], ["Failed"], "report status")
        expect(op["error"]["code"], "MessageRejected", "error code")

    @check("a wrong access key is refused (401)")
    def _():
        wrong = re.sub(r"accesskey=[^;]+", "accesskey=" + base64.b64encode(b"\x05" * 32).decode(), CONN)
        try:
            EmailClient.from_connection_string(wrong).begin_send(message("wrong key"))
        except ClientAuthenticationError as e:
            show("raised", f"ClientAuthenticationError {e.status_code}")
            expect(e.status_code, 401, "status")
            return
        raise AssertionError("wrong key accepted")


def relay_down():
    @check("with the relay down the operation ends Failed (RelayUnavailable) with a Failed report")
    def _():
        poller = client.begin_send(message("relay is down"))
        expect_failed(poller, "relay down")
        op = poller.polling_method().resource()
        show("operation", op)
        expect(op["status"], "Failed", "status")
        expect(op["error"]["code"], "RelayUnavailable", "error code")
        row = operation_row(op["id"])
        show("stored", row)
        expect(row[0], "Failed", "stored status")
        found = reports(op["id"], 1)
        for s, d in found:
            show("event", f"recipient={d['recipient']} status={d['status']} details={d['deliveryStatusDetails']}")
        expect([d["status"] for _, d in found], ["Failed"], "report status")


{"deliver": deliver, "relay-down": relay_down}[MODE]()
finish("email-sdk")
