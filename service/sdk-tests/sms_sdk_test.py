"""azure-communication-sms 1.1.0, unchanged, against MediaCore's local service over TLS.

Usage: sms_sdk_test.py CONNECTION_STRING SERVICE_DB
The CA must be trusted through REQUESTS_CA_BUNDLE / SSL_CERT_FILE. The service runs with its
default numbers (+18005550100, +18005550101) and the recording gateway. Delivery reports and
SMSReceived events are read from the service's outbox table (SERVICE_DB, SQLite) until webhooks
deliver them. Every call prints what it returned. Ends with "sms-sdk: N passed, M failed" and
exits non-zero on any failure.
"""

import base64
import json
import re
import sqlite3
import sys
import time

from azure.communication.sms import SmsClient
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from harness import check, expect, finish, show

CONN, DB = sys.argv[1], sys.argv[2]
OURS, OURS_TOO = "+18005550100", "+18005550101"
sms = SmsClient.from_connection_string(CONN)
state = {}


def described(r):
    return (f"to={r.to} message_id={r.message_id} http_status_code={r.http_status_code} "
            f"successful={r.successful} error_message={r.error_message!r}")


def events(kind, wanted, timeout=5.0):
    """Outbox events of `kind` until `wanted(list)` holds (or the time is up)."""
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(DB) as db:
            rows = db.execute("SELECT subject, data FROM outbox WHERE event_type = ?",
                              (f"Microsoft.Communication.{kind}",)).fetchall()
        found = [(subject, json.loads(data)) for subject, data in rows]
        if wanted(found) or time.time() > deadline:
            return found
        time.sleep(0.05)


@check("send to two numbers with a delivery report")
def _():
    out = sms.send(from_=OURS, to=["+14255550101", "+14255550102"], message="Hello from MediaCore",
                   enable_delivery_report=True, tag="sdk")
    for r in out:
        show("result", described(r))
    expect([(r.to, r.successful, r.http_status_code) for r in out],
           [("+14255550101", True, 202), ("+14255550102", True, 202)], "results")
    if not all(r.message_id and r.message_id.startswith("Outgoing_") for r in out):
        raise AssertionError("message ids")
    state["ids"] = [r.message_id for r in out]


@check("delivery reports arrive as SMSDeliveryReportReceived events")
def _():
    ids = set(state["ids"])
    found = events("SMSDeliveryReportReceived", lambda f: ids <= {d["messageId"] for _, d in f})
    mine = [(s, d) for s, d in found if d["messageId"] in ids]
    for s, d in mine:
        show("event", f"subject={s} messageId={d['messageId']} to={d['to']} status={d['deliveryStatus']} "
                      f"tag={d['tag']} attempts={d['deliveryAttempts']}")
    expect(len(mine), 2, "reports")
    expect({(d["deliveryStatus"], d["tag"], d["from"]) for _, d in mine}, {("Delivered", "sdk", OURS)}, "report fields")
    expect({s for s, _ in mine}, {"phonenumber/18005550100"}, "subject")


@check("send to one number (a string), no report")
def _():
    out = sms.send(from_=OURS, to="+14255550103", message="single")
    show("result", described(out[0]))
    expect((len(out), out[0].successful, out[0].http_status_code), (1, True, 202), "result")


@check("invalid recipients fail per recipient inside the 202")
def _():
    out = sms.send(from_=OURS, to=["+14255550104", "4255550105", "+1425"], message="mixed")
    for r in out:
        show("result", described(r))
    expect([(r.successful, r.http_status_code) for r in out], [(True, 202), (False, 400), (False, 400)], "results")
    expect(out[1].error_message, "Invalid To phone number format.", "error_message")


@check("a local number receives the SMS (SMSReceived event)")
def _():
    out = sms.send(from_=OURS, to=OURS_TOO, message="to ourselves", enable_delivery_report=True, tag="local")
    show("result", described(out[0]))
    expect(out[0].successful, True, "successful")
    found = events("SMSReceived", lambda f: any(d["message"] == "to ourselves" for _, d in f))
    received = [(s, d) for s, d in found if d["message"] == "to ourselves"]
    for s, d in received:
        show("event", f"subject={s} {d}")
    expect(len(received), 1, "SMSReceived events")
    expect((received[0][1]["from"], received[0][1]["to"], received[0][1]["segmentCount"]),
           (OURS, OURS_TOO, 1), "SMSReceived fields")


@check("a bad or foreign sender is a 400 HttpResponseError")
def _():
    for sender in ["8005550100", "+14255550199"]:
        try:
            sms.send(from_=sender, to="+14255550101", message="x")
        except HttpResponseError as e:
            show(f"from={sender} raised", f"{type(e).__name__} {e.status_code} {e.error.code if e.error else None}: "
                                          f"{e.error.message if e.error else None}")
            expect(e.status_code, 400, "status")
            expect(e.error.code if e.error else None, "BadRequest", "error code")
            continue
        raise AssertionError(f"from={sender} accepted")


@check("a wrong access key is refused (401)")
def _():
    wrong = re.sub(r"accesskey=[^;]+", "accesskey=" + base64.b64encode(b"\x05" * 32).decode(), CONN)
    try:
        SmsClient.from_connection_string(wrong).send(from_=OURS, to="+14255550101", message="x")
    except ClientAuthenticationError as e:
        show("raised", f"ClientAuthenticationError {e.status_code}")
        expect(e.status_code, 401, "status")
        return
    raise AssertionError("wrong key accepted")


finish("sms-sdk")
