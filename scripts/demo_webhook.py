"""The Event Grid webhook `make run` subscribes to the local service: completes the validation
handshake and prints every event it is sent, one line each, as they arrive.

Usage: demo_webhook.py PORT EVENTS_FILE
Listens on 127.0.0.1:PORT (EventGridSchema: a JSON array per POST). Appends each event as one
JSON line to EVENTS_FILE (so the demo script can count them at the end), and "ready" then
"validated" as lines of EVENTS_FILE.status for the script to wait on. Runs until SIGTERM or
SIGINT. Standard library only.
"""

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, EVENTS_FILE = int(sys.argv[1]), sys.argv[2]


def status(line):
    with open(EVENTS_FILE + ".status", "a", encoding="utf-8") as out:
        out.write(line + "\n")

# What is worth a glance per event type (the rest of `data` is in EVENTS_FILE).
SUMMARY_FIELDS = {
    "ChatMessageReceived": ("senderDisplayName", "messageBody"),
    "ChatMessageReceivedInThread": ("senderDisplayName", "messageBody"),
    "SMSReceived": ("from", "to", "message"),
    "SMSDeliveryReportReceived": ("to", "deliveryStatus"),
    "EmailDeliveryReportReceived": ("recipient", "status"),
    "IncomingCall": ("callerDisplayName",),
    "CallEnded": ("reason", "callDurationInSeconds"),
}


def summary(event):
    kind = event.get("eventType", "?").rsplit(".", 1)[-1]
    data = event.get("data") or {}
    parts = []
    for field in SUMMARY_FIELDS.get(kind, ()):
        value = data.get(field)
        if isinstance(value, dict):
            value = value.get("rawId") or value.get("communicationUser", {}).get("id") or value
        if value is not None:
            parts.append(f"{field}={value!s:.60}")
    return f"{kind:<30} {' '.join(parts)}".rstrip()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            events = json.loads(self.rfile.read(length) or b"[]")
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        reply = b""
        with open(EVENTS_FILE, "a", encoding="utf-8") as out:
            for event in events:
                if event.get("eventType") == "Microsoft.EventGrid.SubscriptionValidationEvent":
                    code = event["data"]["validationCode"]
                    reply = json.dumps({"validationResponse": code}).encode()
                    print("  [webhook] subscription validated", flush=True)
                    status("validated")
                    continue
                out.write(json.dumps(event) + "\n")
                print(f"  [webhook] {summary(event)}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Hook)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
status("ready")
try:
    server.serve_forever()
except (KeyboardInterrupt, SystemExit):
    pass
