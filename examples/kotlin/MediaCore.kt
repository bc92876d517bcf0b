// MediaCore from Kotlin (JVM) through the JNI glue ffi/jni/mediacore_jni.c over the C ABI:
// Engine and Call are Closeable (use `use { }`), failures throw MediaCoreException.
package mediacore

import java.io.Closeable

class MediaCoreException(val status: Int, message: String) : RuntimeException(message)

/** One engine event; [call] is the handle of the call it is about (compare with Call.handle). */
class Event(val kind: Int, val state: Int, val call: Long, val text: String, val dropped: Long) {
    companion object {
        const val CALL_STATE = 1
        const val LOCAL_CANDIDATE = 2
        const val GATHERING_COMPLETE = 3
        const val CALL_FAILED = 4
        const val CANDIDATE_ERROR = 5
        const val SELECTED_PAIR = 6
        private val STATE_NAMES =
            listOf("new", "connecting", "connected", "disconnected", "failed", "closed")

        fun stateName(state: Int): String = STATE_NAMES.getOrElse(state) { "?" }
    }
}

/** The JNI functions, one per C ABI function (see mediacore_jni.c). */
object Native {
    init {
        System.loadLibrary("mediacore_jni")
    }

    @JvmStatic external fun version(): String
    @JvmStatic external fun abiVersion(): Int
    @JvmStatic external fun headerAbiVersion(): Int
    @JvmStatic external fun engineNew(): Long
    @JvmStatic external fun engineFree(engine: Long)
    @JvmStatic external fun pollEvent(engine: Long, timeoutMs: Int): Event?
    @JvmStatic external fun callNew(engine: Long, bindAddress: String?, cname: String?): Long
    @JvmStatic external fun callFree(call: Long)
    @JvmStatic external fun createOffer(call: Long): String
    @JvmStatic external fun acceptOffer(call: Long, offer: String): String
    @JvmStatic external fun acceptAnswer(call: Long, answer: String)
    @JvmStatic external fun addRemoteCandidate(call: Long, candidate: String)
    @JvmStatic external fun audioBlockLen(call: Long): Int
    @JvmStatic external fun processAudio(call: Long, capture: ShortArray, playout: ShortArray): Int
    @JvmStatic external fun stats(call: Long): LongArray
    @JvmStatic external fun hangUp(call: Long)
}

class Engine : Closeable {
    var handle: Long = Native.engineNew()
        private set

    /** The next event, or null after [timeoutMs] (negative: wait for ever) without one. */
    fun pollEvent(timeoutMs: Int): Event? = Native.pollEvent(handle, timeoutMs)

    override fun close() {
        Native.engineFree(handle)
        handle = 0
    }
}

/** A call's statistics (a few of mc_call_stats). */
class CallStats(val state: Int, val packetsSent: Long, val packetsReceived: Long,
                val packetsLost: Long, val mos: Double)

class Call(engine: Engine, bindAddress: String? = null, cname: String? = null) : Closeable {
    var handle: Long = Native.callNew(engine.handle, bindAddress, cname)
        private set

    fun createOffer(): String = Native.createOffer(handle)
    fun acceptOffer(offer: String): String = Native.acceptOffer(handle, offer)
    fun acceptAnswer(answer: String) = Native.acceptAnswer(handle, answer)
    fun addRemoteCandidate(candidate: String) = Native.addRemoteCandidate(handle, candidate)
    /** Samples in one 10 ms block (capture and playout alike: 48 kHz mono). */
    fun audioBlockLen(): Int = Native.audioBlockLen(handle)
    /** The audio tick: returns MC_ERR_BUSY (-6) when another thread is in it, else MC_OK. */
    fun processAudio(capture: ShortArray, playout: ShortArray): Int =
        Native.processAudio(handle, capture, playout)
    fun stats(): CallStats =
        Native.stats(handle).let { CallStats(it[0].toInt(), it[1], it[2], it[3], it[4] / 100.0) }
    fun hangUp() = Native.hangUp(handle)

    override fun close() {
        Native.callFree(handle)
        handle = 0
    }
}
