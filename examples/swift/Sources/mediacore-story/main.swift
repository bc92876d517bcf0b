// MediaCore's user story from Swift through the C ABI (the Clang module MediaCore). Given a
// service's connection string (MediaCore's local service: the chat event needs its
// notification stream), first a user with a chat+voip token, a chat thread, and a message
// seen arriving as an engine event. Then two calls on the same engine connected over UDP on
// 127.0.0.1: offer/answer, trickled candidates, then SECONDS of audio in real time (A sends a
// WAV file, B silence) and what B heard written as a WAV, statistics once a second; the user
// deleted and every handle and string freed at the end.
//
//   mediacore-story IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]
import Foundation
import MediaCore

func check(_ status: mc_status, _ what: String) {
    if status != MC_OK {
        fatalError("\(what) -> \(status): \(String(cString: mc_last_error_message()))")
    }
}

// A minimal reader of 16-bit PCM WAV: finds the "data" chunk.
func readWav(_ path: String) -> [Int16] {
    guard let data = FileManager.default.contents(atPath: path) else {
        fatalError("\(path): cannot read")
    }
    let bytes = [UInt8](data)
    func tag(_ at: Int) -> String { String(decoding: bytes[at..<at + 4], as: UTF8.self) }
    func le32(_ at: Int) -> Int {
        (0..<4).reduce(0) { sum, i in sum | Int(bytes[at + i]) << (8 * i) }
    }
    guard bytes.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else {
        fatalError("\(path): not a WAV file")
    }
    var at = 12
    while at + 8 <= bytes.count {
        let size = le32(at + 4)
        if tag(at) == "data" {
            let start = at + 8
            return (0..<min(size, bytes.count - start) / 2).map { i in
                Int16(bitPattern: UInt16(bytes[start + 2 * i])
                                  | UInt16(bytes[start + 2 * i + 1]) << 8)
            }
        }
        at += 8 + size + (size & 1)
    }
    fatalError("\(path): no data chunk")
}

// 48 kHz mono 16-bit PCM.
func writeWav(_ path: String, _ pcm: [Int16]) {
    var out = [UInt8]()
    func put16(_ v: Int) {
        out += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)]
    }
    func put32(_ v: Int) { put16(v & 0xffff); put16(v >> 16) }
    out += Array("RIFF".utf8); put32(36 + pcm.count * 2); out += Array("WAVEfmt ".utf8)
    put32(16); put16(1); put16(1); put32(48000); put32(48000 * 2); put16(2); put16(16)
    out += Array("data".utf8); put32(pcm.count * 2)
    for sample in pcm { put16(Int(sample)) }
    guard FileManager.default.createFile(atPath: path, contents: Data(out)) else {
        fatalError("\(path): cannot write")
    }
}

// The endpoint of `endpoint=…;accesskey=…`: chat acts as a user, never with the key.
func endpointOf(_ connectionString: String) -> String {
    let parts = connectionString.split(separator: ";")
    guard let part = parts.first(where: { $0.hasPrefix("endpoint=") }) else {
        fatalError("no endpoint= in the connection string")
    }
    return String(part.dropFirst("endpoint=".count))
}

// Client options with the CA file (nil: the system's roots only), valid inside `body` (the
// client reads the file when it is made).
func withClientOptions<R>(_ caFile: String?, _ body: (inout mc_client_options) -> R) -> R {
    var options = mc_client_options()
    check(mc_client_options_default(&options), "mc_client_options_default")
    guard let caFile = caFile else { return body(&options) }
    return caFile.withCString { path in
        options.ca_file = path
        return body(&options)
    }
}

// The platform part, then `body`: a user with a chat+voip token, a thread, and a message seen
// arriving as an engine event; the user deleted and the clients freed afterwards.
func withPlatform(_ engine: OpaquePointer?, _ connectionString: String, _ caFile: String?,
                  _ body: () -> Void) {
    var identity: OpaquePointer?
    var chat: OpaquePointer?
    var user: OpaquePointer?
    withClientOptions(caFile) { options in
        check(mc_identity_client_new(engine, connectionString, &options, &identity),
              "mc_identity_client_new")
    }
    defer { mc_identity_client_free(identity) }
    let scopes = mc_token_scopes(MC_TOKEN_SCOPE_CHAT | MC_TOKEN_SCOPE_VOIP)
    check(mc_identity_create_user(identity, scopes, 60, &user), "mc_identity_create_user")
    defer { mc_identity_user_free(user) }
    // Borrowed from `user`: valid until it is freed.
    var id: UnsafePointer<CChar>?
    var token: UnsafePointer<CChar>?
    var expiresOn: UnsafePointer<CChar>?
    check(mc_identity_user_id(user, &id), "mc_identity_user_id")
    check(mc_identity_user_token(user, &token), "mc_identity_user_token")
    check(mc_identity_user_token_expires_on(user, &expiresOn), "mc_identity_user_token_expires_on")
    let userId = String(cString: id!)
    print("user: \(userId) (token of \(strlen(token!)) bytes, "
          + "expires \(String(cString: expiresOn!)))")
    defer {
        check(mc_identity_delete_user(identity, userId), "mc_identity_delete_user")
        print("user: deleted \(userId)")
    }

    withClientOptions(caFile) { options in
        check(mc_chat_client_new(engine, endpointOf(connectionString), token, &options, &chat),
              "mc_chat_client_new")
    }
    defer { mc_chat_client_free(chat) }
    check(mc_chat_client_start_events(chat), "mc_chat_client_start_events")  // before the send
    var threadPtr: UnsafeMutablePointer<CChar>?
    check(mc_chat_create_thread(chat, "MediaCore Swift example", nil, 0, &threadPtr, nil),
          "mc_chat_create_thread")
    let threadId = String(cString: threadPtr!)
    mc_string_free(threadPtr)
    print("chat: thread \(threadId)")
    var messagePtr: UnsafeMutablePointer<CChar>?
    check(mc_chat_send_message(chat, threadId, "hello from Swift", "Alice", &messagePtr),
          "mc_chat_send_message")
    let messageId = String(cString: messagePtr!)
    mc_string_free(messagePtr)
    print("chat: sent message \(messageId)")
    while true {
        var event = mc_event()
        check(mc_engine_poll_event(engine, &event, 10000), "mc_engine_poll_event")
        if event.kind == UInt32(MC_EVENT_CHAT_MESSAGE), OpaquePointer(event.client) == chat,
           let mid = event.message_id, String(cString: mid) == messageId {
            print("chat event: message \"\(String(cString: event.text))\" in "
                  + "\(String(cString: event.thread_id)) from \(String(cString: event.sender))")
            break
        }
    }
    body()
}

// Two calls on `engine`: returns what B heard.
func call(_ engine: OpaquePointer?, _ speech: [Int16], seconds: Int) -> [Int16] {
    var options = mc_call_options()
    check(mc_call_options_default(&options), "mc_call_options_default")
    var a: OpaquePointer?
    var b: OpaquePointer?
    // The options' strings need to live only during mc_call_new.
    "127.0.0.1".withCString { address in
        options.bind_address = address
        "engine-a".withCString { cname in
            options.cname = cname
            check(mc_call_new(engine, &options, &a), "mc_call_new A")
        }
        "engine-b".withCString { cname in
            options.cname = cname
            check(mc_call_new(engine, &options, &b), "mc_call_new B")
        }
        options.bind_address = nil
        options.cname = nil
    }
    defer {
        mc_call_free(a)
        mc_call_free(b)
    }

    var offer: UnsafeMutablePointer<CChar>?
    var answer: UnsafeMutablePointer<CChar>?
    check(mc_call_create_offer(a, &offer), "mc_call_create_offer")
    defer { mc_string_free(offer) }
    check(mc_call_accept_offer(b, offer, &answer), "mc_call_accept_offer")
    defer { mc_string_free(answer) }
    check(mc_call_accept_answer(a, answer), "mc_call_accept_answer")

    // Candidates go to the other call; returns whether a call connected.
    func handle(_ event: mc_event) -> Bool {
        let who = event.call == a ? "A" : "B"
        switch event.kind {
        case UInt32(MC_EVENT_LOCAL_CANDIDATE):
            check(mc_call_add_remote_candidate(event.call == a ? b : a, event.text),
                  "mc_call_add_remote_candidate")
        case UInt32(MC_EVENT_CALL_STATE):
            let names = ["new", "connecting", "connected", "disconnected", "failed", "closed"]
            let state = Int(event.state)
            print("call \(who): \(state < names.count ? names[state] : "?")")
            if event.state == UInt32(MC_CALL_STATE_FAILED) { fatalError("call \(who) failed") }
            return event.state == UInt32(MC_CALL_STATE_CONNECTED)
        case UInt32(MC_EVENT_SELECTED_PAIR):
            print("call \(who): pair \(String(cString: event.text))")
        case UInt32(MC_EVENT_CALL_FAILED):
            fatalError("call \(who) failed: \(String(cString: event.text))")
        default:
            break
        }
        return false
    }

    var connected = 0
    let deadline = Date().addingTimeInterval(15)
    while connected < 2 {
        var event = mc_event()
        let status = mc_engine_poll_event(engine, &event, 10)
        if status == MC_OK {
            connected += handle(event) ? 1 : 0
        } else if status != MC_ERR_TIMEOUT {
            check(status, "mc_engine_poll_event")
        }
        if Date() > deadline { fatalError("not connected within 15 s") }
    }

    // Every buffer is allocated here, before the real-time loop.
    var captureLen = 0
    var playoutLen = 0
    check(mc_call_audio_block_len(a, &captureLen, &playoutLen), "mc_call_audio_block_len")
    let ticks = seconds * 100
    var heard = [Int16]()
    heard.reserveCapacity(ticks * playoutLen)
    var block = [Int16](repeating: 0, count: captureLen)
    let silence = [Int16](repeating: 0, count: captureLen)
    var discard = [Int16](repeating: 0, count: playoutLen)
    var playout = [Int16](repeating: 0, count: playoutLen)
    var due = Date()
    for t in 0..<ticks {
        let at = t * captureLen
        for i in 0..<captureLen { block[i] = at + i < speech.count ? speech[at + i] : 0 }
        check(mc_call_process_audio(a, block, captureLen, &discard, playoutLen), "A audio")
        check(mc_call_process_audio(b, silence, captureLen, &playout, playoutLen), "B audio")
        heard.append(contentsOf: playout)
        // Events still arrive (e.g. late candidates): drain without waiting.
        var event = mc_event()
        while mc_engine_poll_event(engine, &event, 0) == MC_OK { _ = handle(event) }
        if (t + 1) % 100 == 0 {
            var st = mc_call_stats()
            check(mc_call_get_stats(b, &st), "mc_call_get_stats")
            print(String(format: "%2ld s  B: received %llu lost %lld jitter %.1f ms MOS %.2f",
                         (t + 1) / 100, st.packets_received, st.packets_lost, st.jitter_ms, st.mos))
        }
        due = due.addingTimeInterval(0.01)
        Thread.sleep(until: due)
    }
    check(mc_call_hang_up(a), "mc_call_hang_up")
    return heard
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    print("usage: \(args[0]) IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]")
    exit(2)
}
let seconds = args.count > 3 ? Int(args[3]) ?? 0 : 3
guard (1...60).contains(seconds) else {
    print("SECONDS must be 1 to 60")
    exit(2)
}
guard mc_abi_version() == UInt32(MC_ABI_VERSION) else {
    fatalError("library ABI \(mc_abi_version()), header ABI \(MC_ABI_VERSION)")
}
print("MediaCore \(String(cString: mc_version())) (Swift)")
let speech = readWav(args[1])

var engine: OpaquePointer?
check(mc_engine_new(nil, &engine), "mc_engine_new")
let story = {
    let heard = call(engine, speech, seconds: seconds)
    writeWav(args[2], heard)
    print("B heard \(heard.count) samples: \(args[2])")
}
if args.count > 4 {
    withPlatform(engine, args[4], args.count > 5 ? args[5] : nil, story)
} else {
    story()
}
mc_engine_free(engine)
