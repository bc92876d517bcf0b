"""Event Grid delivery to webhooks, read with azure-eventgrid 4.22.1's own models.

Usage: events_sdk_test.py CONNECTION_STRING
The CA must be trusted through REQUESTS_CA_BUNDLE / SSL_CERT_FILE; the service runs with its
default topic and numbers. A webhook receiver (http.server on 127.0.0.1) answers the handshakes;
subscriptions are made through the service's HMAC-signed admin routes (PUT
/eventSubscriptions/{name}, signed here as acs-wire.md §2 says): EventGridSchema (the code
echoed), CloudEventSchemaV1_0 (OPTIONS) and EventGridSchema validated by a GET of the validation
URL with an SMSReceived filter. A chat message (azure-communication-chat) and an SMS to a local
number (azure-communication-sms) must then arrive, each event parsed with
EventGridEvent.from_dict / CloudEvent.from_dict and checked against SystemEventNames and the
data fields. Ends with "events-sdk: N passed, M failed" and exits non-zero on any failure.
"""

import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import requests
from azure.communication.chat import ChatClient, ChatParticipant, CommunicationTokenCredential
from azure.communication.identity import CommunicationIdentityClient
from azure.communication.sms import SmsClient
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent, SystemEventNames

from harness import check, expect, finish, show

CONN = sys.argv[1]
ENDPOINT = re.search(r"endpoint=([^;]+)", CONN).group(1).rstrip("/")
KEY = base64.b64decode(re.search(r"accesskey=([^;]+)", CONN).group(1))
CA = os.environ.get("REQUESTS_CA_BUNDLE", True)
API = "api-version=2025-02-15"
TOPIC = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mediacore-local"
         "/providers/Microsoft.Communication/communicationServices/mediacore")
OURS, OURS_TOO = "+18005550100", "+18005550101"
KNOWN_TYPES = {m.value for m in SystemEventNames}
state = {}
received = []  # (path, aeg-event-type, headers (case-insensitive), parsed JSON body)
lock = threading.Lock()


def b64(raw):
    return base64.b64encode(raw).decode()


def admin(method, path, body=None):
    """An admin request signed with the access key (HMAC-SHA256, acs-wire.md §2)."""
    data = json.dumps(body).encode() if body is not None else b""
    date = email.utils.formatdate(usegmt=True)
    content_hash = b64(hashlib.sha256(data).digest())
    host = urlparse(ENDPOINT).netloc
    to_sign = f"{method}\n{path}\n{date};{host};{content_hash}"
    signature = b64(hmac.new(KEY, to_sign.encode(), hashlib.sha256).digest())
    headers = {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
        "Content-Type": "application/json",
    }
    r = requests.request(method, ENDPOINT + path, data=data, headers=headers, verify=CA, timeout=30)
    return r.status_code, (r.json() if r.content else None)


class Hook(BaseHTTPRequestHandler):
    """The webhook: /eg and /ce echo the handshakes, /by-get GETs the validation URL."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"null")
        kind = self.headers.get("aeg-event-type")
        with lock:
            received.append((self.path, kind, self.headers, body))
        if kind == "SubscriptionValidation":
            event = EventGridEvent.from_dict(body[0])
            if self.path == "/by-get":
                got = requests.get(event.data["validationUrl"], verify=CA, timeout=30)
                self.reply(200 if got.status_code == 200 else 500)
            else:
                self.reply(200, {"validationResponse": event.data["validationCode"]})
        else:
            self.reply(200)

    def do_OPTIONS(self):
        with lock:
            received.append((self.path, "OPTIONS", self.headers, None))
        origin = self.headers.get("WebHook-Request-Origin")
        self.send_response(200 if origin else 400)
        if origin:
            self.send_header("WebHook-Allowed-Origin", origin)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=server.serve_forever, daemon=True).start()
HOOK = f"http://127.0.0.1:{server.server_address[1]}"


def notifications(path):
    """Every event delivered to `path` (Notification POSTs), with the request's headers."""
    with lock:
        return [(headers, e) for p, kind, headers, body in received
                if p == path and kind == "Notification" for e in body]


def wait_for(what, done, timeout=20.0):
    deadline = time.time() + timeout
    while not done():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def subscription(url, schema, types=()):
    return {"properties": {
        "destination": {"endpointType": "WebHook", "properties": {"endpointUrl": url}},
        "filter": {"includedEventTypes": list(types)},
        "eventDeliverySchema": schema,
    }}


def subscribe(name, body):
    status, v = admin("PUT", f"/eventSubscriptions/{name}?{API}", body)
    show(f"PUT {name}", f"{status} {v['properties']['provisioningState'] if v else v}")
    expect(status, 201, f"PUT {name}")

    def succeeded():
        _, v = admin("GET", f"/eventSubscriptions/{name}?{API}")
        return v["properties"]["provisioningState"] == "Succeeded"
    wait_for(f"{name} validated", succeeded)


@check("subscriptions validated: EventGridSchema (echo), CloudEvents (OPTIONS), EventGridSchema (GET)")
def _():
    subscribe("py-eg", subscription(f"{HOOK}/eg", "EventGridSchema"))
    subscribe("py-ce", subscription(f"{HOOK}/ce", "CloudEventSchemaV1_0"))
    subscribe("py-get", subscription(f"{HOOK}/by-get", "EventGridSchema", [SystemEventNames.AcsSmsReceivedEventName.value]))
    with lock:
        validations = [(p, body) for p, kind, _, body in received if kind == "SubscriptionValidation"]
        options = [(p, h) for p, kind, h, _ in received if kind == "OPTIONS"]
    for path, body in validations:
        event = EventGridEvent.from_dict(body[0])
        show(f"validation at {path}", f"{event.event_type} code={event.data['validationCode']}")
        expect(event.event_type, SystemEventNames.EventGridSubscriptionValidationEventName.value, "validation event type")
        expect(event.data["validationUrl"].startswith(f"{ENDPOINT}/eventSubscriptions/"), True, "validationUrl")
    expect(sorted(p for p, _ in validations), ["/by-get", "/eg"], "validation events")
    expect([p for p, _ in options], ["/ce"], "OPTIONS requests")
    status, v = admin("GET", f"/eventSubscriptions?{API}")
    expect((status, sorted(s["name"] for s in v["value"])), (200, ["py-ce", "py-eg", "py-get"]), "listed")


@check("a chat message and an SMS through the official SDKs")
def _():
    identity = CommunicationIdentityClient.from_connection_string(CONN)
    alice, alice_token = identity.create_user_and_token(scopes=["chat"])
    bob = identity.create_user()
    chat = ChatClient(ENDPOINT + "/", CommunicationTokenCredential(alice_token.token))
    created = chat.create_chat_thread("events over Event Grid",
                                      thread_participants=[ChatParticipant(identifier=bob, display_name="Bob")])
    thread = chat.get_chat_thread_client(created.chat_thread.id)
    message_id = thread.send_message("hello events", sender_display_name="Alice").id
    out = SmsClient.from_connection_string(CONN).send(
        from_=OURS, to=OURS_TOO, message="sms over event grid", enable_delivery_report=True, tag="events")
    expect(out[0].successful, True, "SMS accepted")
    state.update(thread=created.chat_thread.id, message=message_id, alice=alice.properties["id"],
                 bob=bob.properties["id"])
    show("sent", state)


WANTED = {SystemEventNames.AcsSmsReceivedEventName.value, SystemEventNames.AcsSmsDeliveryReportReceivedEventName.value,
          SystemEventNames.AcsChatThreadCreatedEventName.value, SystemEventNames.AcsChatThreadCreatedWithUserEventName.value,
          SystemEventNames.AcsChatMessageReceivedEventName.value,
          SystemEventNames.AcsChatMessageReceivedInThreadEventName.value}


def check_data(kind, data, subject):
    """The data fields a consumer reads, per event type."""
    if kind == SystemEventNames.AcsSmsReceivedEventName.value:
        expect((data["from"], data["to"], data["message"], data["segmentCount"]),
               (OURS, OURS_TOO, "sms over event grid", 1), "SMSReceived data")
        expect(subject, "phonenumber/18005550101", "SMSReceived subject")
    elif kind == SystemEventNames.AcsSmsDeliveryReportReceivedEventName.value:
        expect((data["deliveryStatus"], data["tag"], data["to"]), ("Delivered", "events", OURS_TOO), "report data")
        expect(len(data["deliveryAttempts"]), 1, "deliveryAttempts")
    elif kind == SystemEventNames.AcsChatMessageReceivedEventName.value:
        expect((data["messageBody"], data["senderDisplayName"], data["threadId"], data["messageId"]),
               ("hello events", "Alice", state["thread"], state["message"]), "ChatMessageReceived data")
        expect(data["recipientCommunicationIdentifier"]["rawId"], state["bob"], "recipient")
        expect(data["senderCommunicationIdentifier"]["rawId"], state["alice"], "sender")
    elif kind == SystemEventNames.AcsChatMessageReceivedInThreadEventName.value:
        expect((data["messageBody"], data["threadId"]), ("hello events", state["thread"]), "InThread data")
    elif kind == SystemEventNames.AcsChatThreadCreatedEventName.value:
        expect((data["threadId"], data["properties"]["topic"]), (state["thread"], "events over Event Grid"),
               "ChatThreadCreated data")


@check("EventGridSchema: every event parses with EventGridEvent.from_dict, known types, exact fields")
def _():
    wait_for("the EventGridSchema events", lambda: WANTED <= {e["eventType"] for _, e in notifications("/eg")})
    for headers, raw in notifications("/eg"):
        expect(headers.get("aeg-event-type"), "Notification", "aeg-event-type")
        event = EventGridEvent.from_dict(raw)
        show(event.event_type, f"subject={event.subject} time={event.event_time.isoformat()}")
        expect((event.topic, event.data_version, event.metadata_version), (TOPIC, "1.0", "1"), "envelope")
        expect(event.event_type in KNOWN_TYPES, True, f"{event.event_type} is a SystemEventNames value")
        check_data(event.event_type, event.data, event.subject)


@check("CloudEventSchemaV1_0: every event parses with CloudEvent.from_dict, same ids as EventGridSchema")
def _():
    wait_for("the CloudEvents", lambda: WANTED <= {e["type"] for _, e in notifications("/ce")})
    ids = set()
    for headers, raw in notifications("/ce"):
        expect(headers.get("Content-Type", "").startswith("application/cloudevents-batch+json"), True, "Content-Type")
        event = CloudEvent.from_dict(raw)
        show(event.type, f"subject={event.subject} time={event.time.isoformat()}")
        expect((event.source, event.specversion), (TOPIC, "1.0"), "envelope")
        check_data(event.type, event.data, event.subject)
        ids.add(event.id)
    wait_for("the same events in both schemas", lambda: ids == {e["id"] for _, e in notifications("/eg")})


@check("the filtered subscription gets SMSReceived only, and nothing is dead-lettered")
def _():
    wait_for("SMSReceived at /by-get", lambda: notifications("/by-get"))
    time.sleep(0.5)
    kinds = [EventGridEvent.from_dict(e).event_type for _, e in notifications("/by-get")]
    expect(kinds, [SystemEventNames.AcsSmsReceivedEventName.value], "filtered events")
    for name in ["py-eg", "py-ce", "py-get"]:
        status, v = admin("GET", f"/eventSubscriptions/{name}/deadLetteredEvents?{API}")
        expect((status, v["value"]), (200, []), f"{name} dead letters")


@check("a subscription is deleted")
def _():
    for name in ["py-eg", "py-ce", "py-get"]:
        status, _ = admin("DELETE", f"/eventSubscriptions/{name}?{API}")
        expect(status, 204, f"DELETE {name}")


server.shutdown()
finish("events-sdk")
