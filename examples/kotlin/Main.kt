// MediaCore's user story from Kotlin. Given a service's connection string (MediaCore's local
// service: the chat event needs its notification stream), first a user with a chat+voip
// token, a chat thread, and a message seen arriving as an engine event. Then two calls on the
// same engine connected over UDP on 127.0.0.1: offer/answer, trickled candidates, then
// SECONDS of audio in real time (A sends a WAV file, B silence) and what B heard written as a
// WAV, statistics once a second; the user deleted at the end.
//
//   IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]   (IN: 48 kHz mono 16-bit PCM)
package mediacore

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.system.exitProcess

/** A minimal reader of 16-bit PCM WAV: finds the "data" chunk. */
fun readWav(path: String): ShortArray {
    val bytes = File(path).readBytes()
    val b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
    fun tag(at: Int) = String(bytes, at, 4, Charsets.US_ASCII)
    require(bytes.size >= 12 && tag(0) == "RIFF" && tag(8) == "WAVE") { "$path: not a WAV file" }
    var at = 12
    while (at + 8 <= bytes.size) {
        val size = b.getInt(at + 4)
        if (tag(at) == "data") {
            val n = minOf(size, bytes.size - at - 8) / 2
            return ShortArray(n) { b.getShort(at + 8 + 2 * it) }
        }
        at += 8 + size + (size and 1)
    }
    error("$path: no data chunk")
}

/** 48 kHz mono 16-bit PCM. */
fun writeWav(path: String, pcm: ShortArray) {
    val b = ByteBuffer.allocate(44 + pcm.size * 2).order(ByteOrder.LITTLE_ENDIAN)
    b.put("RIFF".toByteArray()).putInt(36 + pcm.size * 2).put("WAVEfmt ".toByteArray())
    b.putInt(16).putShort(1).putShort(1).putInt(48000).putInt(48000 * 2)  // PCM, mono
    b.putShort(2).putShort(16).put("data".toByteArray()).putInt(pcm.size * 2)
    pcm.forEach { b.putShort(it) }
    File(path).writeBytes(b.array())
}

/** The endpoint of `endpoint=…;accesskey=…`: chat acts as a user, never with the key. */
fun endpointOf(connectionString: String): String =
    connectionString.substringAfter("endpoint=", "").substringBefore(';')
        .also { require(it.isNotEmpty()) { "no endpoint= in the connection string" } }

/**
 * The platform part, then [block]: a user with a chat+voip token, a thread, and a message
 * seen arriving as an engine event; the user deleted and the clients freed afterwards.
 */
fun <T> withPlatform(engine: Engine, connectionString: String, caFile: String?, block: () -> T): T =
    IdentityClient(engine, connectionString, caFile).use { identity ->
        val user = identity.createUser(IdentityClient.SCOPE_CHAT or IdentityClient.SCOPE_VOIP, 60)
        try {
            val token = user.token ?: error("no token")
            println("user: ${user.id} (token of ${token.length} bytes, expires ${user.expiresOn})")
            ChatClient(engine, endpointOf(connectionString), token, caFile).use { chat ->
                chat.startEvents()  // before the send, so the message is reported
                val thread = chat.createThread("MediaCore Kotlin example")
                println("chat: thread $thread")
                val messageId = chat.sendMessage(thread, "hello from Kotlin", "Alice")
                println("chat: sent message $messageId")
                val deadline = System.nanoTime() + 10_000_000_000L
                while (true) {
                    val e = engine.pollEvent(100)
                    if (e != null && e.kind == Event.CHAT_MESSAGE && e.client == chat.handle &&
                        e.messageId == messageId) {
                        println("chat event: message \"${e.text}\" in ${e.threadId} " +
                            "from ${e.sender}")
                        break
                    }
                    check(System.nanoTime() < deadline) { "no chat event within 10 s" }
                }
                block()
            }
        } finally {
            identity.deleteUser(user.id)
            println("user: deleted ${user.id}")
        }
    }

/** The two calls: returns what B heard. */
fun call(engine: Engine, speech: ShortArray, seconds: Int): ShortArray =
    Call(engine, "127.0.0.1", "engine-a").use { a ->
        Call(engine, "127.0.0.1", "engine-b").use { b ->
            a.acceptAnswer(b.acceptOffer(a.createOffer()))
            val handle = { e: Event ->
                val who = if (e.call == a.handle) "A" else "B"
                val peer = if (e.call == a.handle) b else a
                when (e.kind) {
                    Event.LOCAL_CANDIDATE -> peer.addRemoteCandidate(e.text)
                    Event.CALL_STATE -> println("call $who: ${Event.stateName(e.state)}")
                    Event.SELECTED_PAIR -> println("call $who: pair ${e.text}")
                    Event.CALL_FAILED -> error("call $who failed: ${e.text}")
                }
                e.kind == Event.CALL_STATE && e.state == 2
            }
            var connected = 0
            val deadline = System.nanoTime() + 15_000_000_000L
            while (connected < 2) {
                val e = engine.pollEvent(10)
                if (e != null && handle(e)) connected++
                check(System.nanoTime() < deadline) { "not connected within 15 s" }
            }
            // Buffers made before the real-time loop; processAudio pins, never copies them.
            val n = a.audioBlockLen()
            val block = ShortArray(n)
            val silence = ShortArray(n)
            val discard = ShortArray(n)
            val playout = ShortArray(n)
            val heard = ShortArray(seconds * 100 * n)
            var due = System.nanoTime()
            for (t in 0 until seconds * 100) {
                block.fill(0)
                val at = t * n
                if (at < speech.size) {
                    System.arraycopy(speech, at, block, 0, minOf(n, speech.size - at))
                }
                a.processAudio(block, discard)
                b.processAudio(silence, playout)
                System.arraycopy(playout, 0, heard, at, n)
                while (true) handle(engine.pollEvent(0) ?: break)
                if ((t + 1) % 100 == 0) {
                    val st = b.stats()
                    println("%2d s  B: received %d lost %d MOS %.2f".format(
                        (t + 1) / 100, st.packetsReceived, st.packetsLost, st.mos))
                }
                due += 10_000_000L
                val sleep = (due - System.nanoTime()) / 1_000_000L
                if (sleep > 0) Thread.sleep(sleep)
            }
            a.hangUp()
            heard
        }
    }

fun main(args: Array<String>) {
    if (args.size < 2) {
        System.err.println("usage: IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]")
        exitProcess(2)
    }
    val seconds = args.getOrNull(2)?.toInt() ?: 3
    require(seconds in 1..60) { "SECONDS must be 1 to 60" }
    if (Native.abiVersion() != Native.headerAbiVersion()) {
        val (lib, header) = Native.abiVersion() to Native.headerAbiVersion()
        System.err.println("library ABI $lib, header ABI $header")
        exitProcess(1)
    }
    println("MediaCore ${Native.version()} (Kotlin)")
    val speech = readWav(args[0])
    Engine().use { engine ->
        val story = {
            val heard = call(engine, speech, seconds)
            writeWav(args[1], heard)
            println("B heard ${heard.size} samples: ${args[1]}")
        }
        val connectionString = args.getOrNull(3)
        if (connectionString != null) {
            withPlatform(engine, connectionString, args.getOrNull(4), story)
        } else {
            story()
        }
        // A closed call's handle is an error reported as an exception, not a crash.
        try {
            Native.createOffer(1)
        } catch (e: MediaCoreException) {
            println("stale handle: MediaCoreException ${e.status}: ${e.message}")
        }
    }
}
