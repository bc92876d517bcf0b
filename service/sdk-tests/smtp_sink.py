"""A real SMTP server (aiosmtpd) that keeps every message it accepts, for the email SDK checks.

Usage: smtp_sink.py PORT DIRECTORY
Listens on 127.0.0.1:PORT. Each accepted message is written as DIRECTORY/<n>.eml (the bytes as
received) and then DIRECTORY/<n>.json ({"mail_from", "rcpt_tos"}: the envelope, which is where
Bcc recipients show), so a reader that sees the .json finds the .eml complete. Recipients whose
address starts with "reject" are refused with 550, as a relay refuses an unknown mailbox.
Prints "ready" once listening; runs until SIGTERM or SIGINT.
"""

import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller

PORT, DIRECTORY = int(sys.argv[1]), sys.argv[2]
os.makedirs(DIRECTORY, exist_ok=True)


class Sink:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(DIRECTORY, f"{n:04d}")
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        os.replace(base + ".tmp", base + ".json")
        return "250 2.0.0 Ok: queued as sink-%d" % n


stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
controller = Controller(Sink(), hostname="127.0.0.1", port=PORT)
controller.start()
print("ready", flush=True)
stop.wait()
controller.stop()
