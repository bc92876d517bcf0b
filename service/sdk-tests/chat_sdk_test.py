"""azure-communication-chat 1.3.0, unchanged, against MediaCore's local service over TLS.

Usage: chat_sdk_test.py CONNECTION_STRING
The CA must be trusted through REQUESTS_CA_BUNDLE / SSL_CERT_FILE. Users and tokens come from
azure-communication-identity. Every call prints what it returned; every check that fails is
reported with its trace. A real-time listener (GET /chat/realtime, server-sent events) runs
beside the calls and must see each kind of notification. Ends with "chat-sdk: N passed, M
failed" and exits non-zero on any failure.
"""

import json
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import requests
from azure.communication.chat import (
    ChatClient,
    ChatMessageType,
    ChatParticipant,
    CommunicationTokenCredential,
    CommunicationUserIdentifier,
)
from azure.communication.identity import CommunicationIdentityClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from harness import check, expect, finish, show

CONN = sys.argv[1]
ENDPOINT = re.search(r"endpoint=([^;]+)", CONN).group(1)
API = "2024-03-07"
identity = CommunicationIdentityClient.from_connection_string(CONN)
state = {}


def user(scopes=("chat",)):
    u, token = identity.create_user_and_token(scopes=list(scopes))
    return u, token.token


def raw(identifier):
    return identifier.properties["id"] if identifier is not None else None


def expect_http_error(fn, status, what):
    try:
        fn()
    except HttpResponseError as e:
        show(f"{what} raised", f"{type(e).__name__} {e.status_code} {e.error.code if e.error else None}")
        expect(e.status_code, status, f"{what} status")
        if e.error is None or not e.error.code or not e.error.message:
            raise AssertionError(f"{what}: no ACS error body") from e
        return e
    raise AssertionError(f"{what}: no error raised")


class Listener(threading.Thread):
    """Reads GET /chat/realtime (server-sent events) as one user and keeps the event names."""

    def __init__(self, token):
        super().__init__(daemon=True)
        self.events = []
        self.connected = threading.Event()
        self.response = requests.get(
            f"{ENDPOINT.rstrip('/')}/chat/realtime?api-version={API}",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
            stream=True, timeout=(10, 60))
        self.response.raise_for_status()

    def run(self):
        name = None
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:") and name:
                    self.events.append((name, json.loads(line[5:].strip())))
                    if name == "realTimeNotificationConnected":
                        self.connected.set()
                    name = None
        except Exception:  # the stream ends when the test closes it
            pass

    def names(self):
        return {n for n, _ in self.events}


alice, alice_token = user()
bob, bob_token = user()
carol, carol_token = user()
show("users", [raw(alice), raw(bob), raw(carol)])
chat = ChatClient(ENDPOINT, CommunicationTokenCredential(alice_token))
listener = Listener(bob_token)
listener.start()
listener.connected.wait(10)


@check("create_chat_thread (idempotency_token, two participants)")
def _():
    token = str(uuid.uuid4())
    participants = [ChatParticipant(identifier=alice, display_name="Alice"),
                    ChatParticipant(identifier=bob, display_name="Bob")]
    result = chat.create_chat_thread("MediaCore chat", thread_participants=participants, idempotency_token=token)
    t = result.chat_thread
    show("chat_thread", f"id={t.id} topic={t.topic!r} created_by={raw(t.created_by)} created_on={t.created_on}")
    show("errors", result.errors)
    expect(t.topic, "MediaCore chat", "topic")
    expect(raw(t.created_by), raw(alice), "created_by")
    expect(result.errors, [], "errors")
    if not re.fullmatch(r"19:[0-9a-f]{32}@thread\.v2", t.id):
        raise AssertionError(f"thread id shape: {t.id}")
    state["thread_id"], state["token"] = t.id, token
    again = chat.create_chat_thread("MediaCore chat", thread_participants=participants, idempotency_token=token)
    show("same idempotency_token again", f"id={again.chat_thread.id}")
    expect(again.chat_thread.id, t.id, "replayed thread id")


@check("create_chat_thread with invalid participants reports them")
def _():
    # A user id of this resource that was never created. (Not a phone number: the SDK's own
    # CommunicationErrorResponseConverter reads identifier.properties['id'] of every participant
    # and raises KeyError for a PhoneNumberIdentifier; the Rust tests cover that case.)
    ghost = CommunicationUserIdentifier(raw(alice)[:-12] + "000000000000")
    result = chat.create_chat_thread("with a ghost", thread_participants=[
        ChatParticipant(identifier=ghost), ChatParticipant(identifier=bob)])
    show("errors", [(raw(p.identifier) if p else None, e.code, e.message, e.target) for p, e in result.errors])
    expect(len(result.errors), 1, "invalid participants")
    expect(result.errors[0][1].target, raw(ghost), "error target")
    expect(raw(result.errors[0][0].identifier), raw(ghost), "error mapped back to the participant")
    state["other_thread_id"] = result.chat_thread.id


@check("list_chat_threads(results_per_page=1) pages through nextLink")
def _():
    pages = [[(t.id, t.topic, t.last_message_received_on) for t in page]
             for page in chat.list_chat_threads(results_per_page=1).by_page()]
    show("pages", pages)
    ids = [i for page in pages for i, _, _ in page]
    expect(len(pages), 2, "pages")
    expect(set(ids), {state["thread_id"], state["other_thread_id"]}, "threads")


@check("get_properties")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    p = client.get_properties()
    show("properties", f"id={p.id} topic={p.topic!r} created_by={raw(p.created_by)}")
    expect((p.id, p.topic, raw(p.created_by)), (state["thread_id"], "MediaCore chat", raw(alice)), "properties")


@check("send_message x5 (text, html with metadata, display name)")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    ids = []
    for i in range(4):
        r = client.send_message(f"hello {i}", sender_display_name="Alice")
        ids.append(r.id)
    r = client.send_message("<b>bold</b>", chat_message_type=ChatMessageType.HTML, sender_display_name="Alice",
                            metadata={"tags": "demo", "priority": "high"})
    ids.append(r.id)
    show("message ids", ids)
    if ids != sorted(ids, key=int) or len(set(ids)) != 5:
        raise AssertionError(f"message ids not unique and increasing: {ids}")
    state["message_ids"] = ids


@check("list_messages(results_per_page=2) pages through nextLink, newest first")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    pages = [list(page) for page in client.list_messages(results_per_page=2).by_page()]
    flat = [m for page in pages for m in page]
    show("pages", [[(m.id, m.type, m.sequence_id) for m in page] for page in pages])
    expect(len(pages), 4, "pages of 2 for 7 messages")
    expect([int(m.sequence_id) for m in flat], list(range(7, 0, -1)), "sequence ids newest first")
    expect([m.type for m in flat[-2:]], [ChatMessageType.PARTICIPANT_ADDED, ChatMessageType.TOPIC_UPDATED],
           "system messages of the creation")
    added = flat[-2].content
    show("participantAdded", ([raw(p.identifier) for p in added.participants], raw(added.initiator)))
    expect(sorted(raw(p.identifier) for p in added.participants), sorted([raw(alice), raw(bob)]),
           "participantAdded participants")
    expect(flat[-1].content.topic, "MediaCore chat", "topicUpdated topic")
    expect([m.id for m in flat[:5]], list(reversed(state["message_ids"])), "user messages")


@check("get_message (html, metadata, sender)")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    m = client.get_message(state["message_ids"][-1])
    show("message", f"id={m.id} type={m.type} content={m.content.message!r} sender={raw(m.sender)} "
                    f"name={m.sender_display_name!r} metadata={m.metadata} version={m.version} created_on={m.created_on}")
    expect(m.type, ChatMessageType.HTML, "type")
    expect(m.content.message, "<b>bold</b>", "content")
    expect(raw(m.sender), raw(alice), "sender")
    expect(m.sender_display_name, "Alice", "sender_display_name")
    expect(m.metadata, {"tags": "demo", "priority": "high"}, "metadata")


@check("update_message then get_message shows the edit")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    mid = state["message_ids"][-1]
    show("update_message returned", client.update_message(mid, content="<i>edited</i>", metadata={"tags": "edited"}))
    m = client.get_message(mid)
    show("message", f"content={m.content.message!r} metadata={m.metadata} edited_on={m.edited_on}")
    expect(m.content.message, "<i>edited</i>", "content")
    expect(m.metadata, {"tags": "edited", "priority": "high"}, "metadata merged")
    if m.edited_on is None:
        raise AssertionError("edited_on not set")


@check("update_message by another participant is 403")
def _():
    bob_client = ChatClient(ENDPOINT, CommunicationTokenCredential(bob_token)).get_chat_thread_client(state["thread_id"])
    expect_http_error(lambda: bob_client.update_message(state["message_ids"][0], content="not mine"), 403,
                      "bob edits alice's message")


@check("delete_message then get_message shows deleted_on")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    mid = state["message_ids"][0]
    show("delete_message returned", client.delete_message(mid))
    m = client.get_message(mid)
    show("message", f"id={m.id} deleted_on={m.deleted_on} content={m.content}")
    if m.deleted_on is None:
        raise AssertionError("deleted_on not set")


@check("add_participants, list_participants(results_per_page=1) pages")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    errors = client.add_participants([ChatParticipant(identifier=carol, display_name="Carol")])
    show("add_participants returned", errors)
    expect(errors, [], "errors")
    pages = [[(raw(p.identifier), p.display_name) for p in page]
             for page in client.list_participants(results_per_page=1).by_page()]
    show("pages", pages)
    expect(len(pages), 3, "pages")
    expect([p for page in pages for p in page],
           [(raw(alice), "Alice"), (raw(bob), "Bob"), (raw(carol), "Carol")], "participants")


@check("add_participants with an unknown user reports it")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    ghost = CommunicationUserIdentifier(raw(carol)[:-12] + "000000000000")
    errors = client.add_participants([ChatParticipant(identifier=ghost)])
    show("add_participants returned", [(raw(p.identifier), e.code, e.message) for p, e in errors])
    expect(len(errors), 1, "errors")


@check("remove_participant, then list_participants")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    show("remove_participant returned", client.remove_participant(carol))
    remaining = [raw(p.identifier) for p in client.list_participants()]
    show("participants", remaining)
    expect(remaining, [raw(alice), raw(bob)], "participants")
    carol_client = ChatClient(ENDPOINT, CommunicationTokenCredential(carol_token)).get_chat_thread_client(state["thread_id"])
    expect_http_error(carol_client.get_properties, 403, "removed participant reads the thread")


@check("send_read_receipt, list_read_receipts")
def _():
    bob_client = ChatClient(ENDPOINT, CommunicationTokenCredential(bob_token)).get_chat_thread_client(state["thread_id"])
    mid = state["message_ids"][-2]
    show("send_read_receipt returned", bob_client.send_read_receipt(mid))
    receipts = [(raw(r.sender), r.chat_message_id, r.read_on) for r in bob_client.list_read_receipts()]
    show("read receipts", receipts)
    expect([(s, m) for s, m, _ in receipts], [(raw(bob), mid)], "receipts")


@check("send_typing_notification")
def _():
    bob_client = ChatClient(ENDPOINT, CommunicationTokenCredential(bob_token)).get_chat_thread_client(state["thread_id"])
    show("send_typing_notification returned", bob_client.send_typing_notification(sender_display_name="Bob"))


@check("update_topic, then get_properties and a topicUpdated message")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    show("update_topic returned", client.update_topic("MediaCore chat, renamed"))
    p = client.get_properties()
    show("topic", p.topic)
    expect(p.topic, "MediaCore chat, renamed", "topic")
    newest = next(iter(client.list_messages(results_per_page=1)))
    show("newest message", (newest.type, newest.content.topic, raw(newest.content.initiator)))
    expect((newest.type, newest.content.topic), (ChatMessageType.TOPIC_UPDATED, "MediaCore chat, renamed"),
           "topicUpdated message")


@check("list_messages(start_time) returns only what changed since")
def _():
    client = chat.get_chat_thread_client(state["thread_id"])
    time.sleep(0.05)
    start = datetime.now(timezone.utc)
    later = client.send_message("after the start time").id
    since = [(m.id, m.type) for m in client.list_messages(start_time=start)]
    show("since start_time", since)
    expect([i for i, _ in since], [later], "messages since start_time")


@check("a non-participant gets 403, an unknown thread 404")
def _():
    outsider = ChatClient(ENDPOINT, CommunicationTokenCredential(carol_token))
    outsider_thread = outsider.get_chat_thread_client(state["thread_id"])
    expect_http_error(lambda: outsider_thread.send_message("let me in"), 403, "outsider send_message")
    try:
        chat.get_chat_thread_client("19:" + "0" * 32 + "@thread.v2").get_properties()
    except ResourceNotFoundError as e:
        show("unknown thread raised", f"ResourceNotFoundError {e.status_code}")
        expect(e.status_code, 404, "status")
        return
    raise AssertionError("unknown thread answered")


@check("real-time notifications reached bob over /chat/realtime")
def _():
    want = {"realTimeNotificationConnected", "chatMessageReceived", "chatMessageEdited", "chatMessageDeleted",
            "participantsAdded", "participantsRemoved", "readReceiptReceived", "typingIndicatorReceived",
            "chatThreadPropertiesUpdated"}
    deadline = time.time() + 5
    while not want <= listener.names() and time.time() < deadline:
        time.sleep(0.05)
    counts = {}
    for n, _ in listener.events:
        counts[n] = counts.get(n, 0) + 1
    show("events", counts)
    missing = want - listener.names()
    if missing:
        raise AssertionError(f"missing notifications: {sorted(missing)}")
    received = [d for n, d in listener.events if n == "chatMessageReceived"]
    expect(received[0]["threadId"], state["thread_id"], "threadId")
    expect(received[0]["recipient"]["rawId"], raw(bob), "recipient")
    expect(received[0]["sender"]["rawId"], raw(alice), "sender")
    expect(received[0]["message"], "hello 0", "message")


@check("delete_chat_thread, then the thread is gone (404)")
def _():
    show("delete_chat_thread returned", chat.delete_chat_thread(state["thread_id"]))
    deadline = time.time() + 5
    while "chatThreadDeleted" not in listener.names() and time.time() < deadline:
        time.sleep(0.05)
    show("chatThreadDeleted notified", "chatThreadDeleted" in listener.names())
    expect("chatThreadDeleted" in listener.names(), True, "chatThreadDeleted notification")
    try:
        chat.get_chat_thread_client(state["thread_id"]).get_properties()
    except ResourceNotFoundError as e:
        show("get_properties raised", f"ResourceNotFoundError {e.status_code}")
        return
    raise AssertionError("deleted thread still answers")


listener.response.close()
finish("chat-sdk")
