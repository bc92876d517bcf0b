"""Call Automation with azure-communication-callautomation 1.6.0, unchanged, against the local
service, with a MediaCore engine (plain HTTP + server-sent events) as the callee.

Usage: calling_sdk_test.py CONNECTION_STRING
The CA must be trusted through REQUESTS_CA_BUNDLE / SSL_CERT_FILE. A callback receiver
(http.server on 127.0.0.1) records the CloudEvents the service POSTs. Checks: create_call to an
engine's user (the engine answers over REST) with CallConnected / ParticipantsUpdated callbacks,
get_call_properties, list_participants, get_participant, hang_up(is_for_everyone=True) with
CallDisconnected; answer_call and reject_call with the incomingCallContext of calls placed by
another engine; 404 for an unknown call. Ends with "calling-sdk: N passed, M failed".
"""

import json
import os
import queue
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from azure.communication.callautomation import (
    CallAutomationClient,
    CallRejectReason,
    CommunicationUserIdentifier,
)
from azure.communication.identity import CommunicationIdentityClient
from azure.core.exceptions import ResourceNotFoundError

from harness import check, expect, finish, show

CONN = sys.argv[1]
ENDPOINT = re.search(r"endpoint=([^;]+)", CONN).group(1).rstrip("/")
CA = os.environ.get("REQUESTS_CA_BUNDLE", True)
API = "api-version=2026-03-12"
OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
callbacks = []
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            callbacks.extend(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_callbacks(n):
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            if len(callbacks) >= n:
                return list(callbacks)
        time.sleep(0.05)
    raise AssertionError(f"expected {n} callbacks, got {callbacks}")


class Engine:
    """A MediaCore engine: a voip user, a registration and its notification stream."""

    def __init__(self, identity):
        user, token = identity.create_user_and_token(scopes=["voip"])
        self.id = user.properties["id"]
        self.headers = {"Authorization": f"Bearer {token.token}"}
        reg = self.call("POST", "/calling/registrations")
        self.events = queue.Queue()
        url = f"{ENDPOINT}/calling/registrations/{reg['id']}/events?{API}"
        self.stream = requests.get(url, headers=self.headers, stream=True, verify=CA, timeout=60)
        expect(self.stream.status_code, 200, "event stream")
        threading.Thread(target=self.read, daemon=True).start()
        expect(self.next()[0], "registrationConnected", "first event")

    def call(self, method, path, body=None, status=None):
        r = requests.request(method, f"{ENDPOINT}{path}?{API}", headers=self.headers, json=body, verify=CA)
        if status is not None:
            expect(r.status_code, status, f"{method} {path}: {r.text}")
        return r.json() if r.content else None

    def read(self):
        name = None
        for line in self.stream.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:") and name:
                self.events.put((name, json.loads(line[5:])))
                name = None

    def next(self):
        return self.events.get(timeout=5)

    def expect(self, name):
        got, data = self.next()
        expect(got, name, "engine event")
        return data


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
HOOK = f"http://127.0.0.1:{server.server_address[1]}/hook"
identity = CommunicationIdentityClient.from_connection_string(CONN)
client = CallAutomationClient.from_connection_string(CONN)
a, b = Engine(identity), Engine(identity)
state = {}


@check("create_call rings the engine; it answers; CallConnected and ParticipantsUpdated arrive")
def _():
    props = client.create_call(CommunicationUserIdentifier(b.id), HOOK, operation_context="sdk-1",
                               source_display_name="Bot")
    show("create_call", vars(props))
    expect(props.call_connection_state, "connecting", "state")
    expect([t.raw_id for t in props.targets], [b.id], "targets")
    expect(props.callback_url, HOOK, "callback_url")
    incoming = b.expect("incomingCall")
    expect(incoming["callId"], props.call_connection_id, "incomingCall callId")
    b.call("POST", f"/calling/calls/{props.call_connection_id}:answer", {}, status=200)
    got = wait_callbacks(2)
    show("callbacks", [e["type"] for e in got])
    expect([e["type"] for e in got[:2]], ["Microsoft.Communication.CallConnected",
                                          "Microsoft.Communication.ParticipantsUpdated"], "types")
    expect(got[0]["data"]["operationContext"], "sdk-1", "operationContext")
    state["cc"] = props.call_connection_id


@check("get_call_properties, list_participants, get_participant")
def _():
    conn = client.get_call_connection(state["cc"])
    props = conn.get_call_properties()
    show("properties", vars(props))
    expect(props.call_connection_state, "connected", "state")
    expect(props.answered_by.raw_id if props.answered_by else None, b.id, "answered_by")
    ids = sorted(p.identifier.raw_id for p in conn.list_participants())
    show("participants", ids)
    expect(b.id in ids and len(ids) == 2, True, "participants")
    p = conn.get_participant(CommunicationUserIdentifier(b.id))
    expect((p.identifier.raw_id, p.is_muted), (b.id, False), "participant")


@check("hang_up(is_for_everyone=True) ends it: CallDisconnected, the engine is told")
def _():
    client.get_call_connection(state["cc"]).hang_up(is_for_everyone=True)
    got = wait_callbacks(3)
    expect(got[2]["type"], "Microsoft.Communication.CallDisconnected", "type")
    b.expect("callConnected")
    expect(b.expect("callDisconnected")["reason"]["subCode"], 5001, "terminated")


@check("answer_call with the incomingCallContext of an engine's call, then hang_up")
def _():
    call = a.call("POST", "/calling/calls", {"target": {"rawId": b.id, "communicationUser": {"id": b.id}},
                                              "offerSdp": OFFER}, status=201)
    ctx = b.expect("incomingCall")["incomingCallContext"]
    props = client.answer_call(ctx, HOOK)
    show("answer_call", vars(props))
    expect((props.call_connection_id, props.call_connection_state), (call["id"], "connected"), "answered")
    expect(a.expect("callAnswered")["callId"], call["id"], "callAnswered")
    client.get_call_connection(call["id"]).hang_up(is_for_everyone=False)
    expect(wait_callbacks(6)[5]["type"], "Microsoft.Communication.CallDisconnected", "type")
    # The callee's engine hears that the app took the call, and that it ended.
    expect(b.expect("callConnected")["answeredBy"]["rawId"].startswith("28:acs:"), True, "answeredBy")
    b.expect("callDisconnected")


@check("reject_call(busy) ends a ringing call")
def _():
    call = a.call("POST", "/calling/calls", {"target": {"rawId": b.id, "communicationUser": {"id": b.id}},
                                              "offerSdp": OFFER}, status=201)
    ctx = b.expect("incomingCall")["incomingCallContext"]
    client.reject_call(ctx, call_reject_reason=CallRejectReason.BUSY)
    got = a.call("GET", f"/calling/calls/{call['id']}", status=200)
    expect((got["state"], got["endReason"]["code"]), ("disconnected", 486), "rejected")


@check("an unknown call is ResourceNotFoundError")
def _():
    try:
        client.get_call_connection(str(uuid.uuid4())).get_call_properties()
    except ResourceNotFoundError as e:
        show("error", e.error.code if e.error else e)
        return
    raise AssertionError("no error")


finish("calling-sdk")
