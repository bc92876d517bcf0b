// Two calls on one engine connected over UDP on 127.0.0.1 from Kotlin: offer/answer,
// trickled candidates, then SECONDS (default 2) of a 440 Hz tone from A to B in real time.
package mediacore

import kotlin.math.PI
import kotlin.math.sin
import kotlin.system.exitProcess

fun main(args: Array<String>) {
    val seconds = args.firstOrNull()?.toInt() ?: 2
    if (Native.abiVersion() != Native.headerAbiVersion()) {
        val (lib, header) = Native.abiVersion() to Native.headerAbiVersion()
        System.err.println("library ABI $lib, header ABI $header")
        exitProcess(1)
    }
    println("MediaCore ${Native.version()} (Kotlin)")
    Engine().use { engine ->
        Call(engine, "127.0.0.1", "engine-a").use { a ->
            Call(engine, "127.0.0.1", "engine-b").use { b ->
                a.acceptAnswer(b.acceptOffer(a.createOffer()))
                val handle = { e: Event ->
                    val who = if (e.call == a.handle) "A" else "B"
                    val peer = if (e.call == a.handle) b else a
                    when (e.kind) {
                        Event.LOCAL_CANDIDATE -> peer.addRemoteCandidate(e.text)
                        Event.CALL_STATE -> println("call $who: ${Event.stateName(e.state)}")
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
                val tone = ShortArray(n)
                val silence = ShortArray(n)
                val playout = ShortArray(n)
                var due = System.nanoTime()
                for (t in 0 until seconds * 100) {
                    for (i in 0 until n) {
                        tone[i] = (8000 * sin(2 * PI * 440 * (t * n + i) / 48000.0)).toShort()
                    }
                    a.processAudio(tone, playout)
                    b.processAudio(silence, playout)
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
            }
        }
        // A closed call's handle is an error reported as an exception, not a crash.
        try {
            Native.createOffer(1)
        } catch (e: MediaCoreException) {
            println("stale handle: MediaCoreException ${e.status}: ${e.message}")
        }
    }
}
