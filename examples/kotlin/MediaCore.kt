// MediaCore from Kotlin (JVM) through the JNI glue ffi/jni/mediacore_jni.c over the C ABI:
// Engine, Call, IdentityClient and ChatClient are Closeable (use `use { }`), failures throw
// MediaCoreException.
package mediacore

import java.io.Closeable

class MediaCoreException(val status: Int, message: String) : RuntimeException(message)

/**
 * One engine event; [call] is the handle of the call it is about (compare with Call.handle),
 * [client] that of the chat client a chat event came from (compare with ChatClient.handle).
 */
class Event(val kind: Int, val state: Int, val call: Long, val text: String, val dropped: Long,
            val client: Long, val threadId: String?, val sender: String?,
            val messageId: String?) {
    companion object {
        const val CALL_STATE = 1
        const val LOCAL_CANDIDATE = 2
        const val GATHERING_COMPLETE = 3
        const val CALL_FAILED = 4
        const val CANDIDATE_ERROR = 5
        const val SELECTED_PAIR = 6
        const val CHAT_MESSAGE = 20
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
    @JvmStatic external fun identityClientNew(engine: Long, connectionString: String,
                                              caFile: String?): Long
    @JvmStatic external fun identityClientFree(client: Long)
    @JvmStatic external fun identityCreateUser(client: Long, scopes: Int,
                                               expiresInMinutes: Int): Array<String?>
    @JvmStatic external fun identityDeleteUser(client: Long, userId: String)
    @JvmStatic external fun chatClientNew(engine: Long, endpoint: String, userToken: String,
                                          caFile: String?): Long
    @JvmStatic external fun chatClientFree(client: Long)
    @JvmStatic external fun chatStartEvents(client: Long)
    @JvmStatic external fun chatCreateThread(client: Long, topic: String,
                                             participants: Array<String>): String
    @JvmStatic external fun chatSendMessage(client: Long, threadId: String, content: String,
                                            senderDisplayName: String?): String
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

/** A user made by IdentityClient.createUser; [token] and [expiresOn] null without scopes. */
class User(val id: String, val token: String?, val expiresOn: String?)

/**
 * Users and tokens with a connection string's access key; [caFile]: the local service's CA
 * (PEM), null for the system's roots only. Every operation blocks until the service answers.
 */
class IdentityClient(engine: Engine, connectionString: String, caFile: String? = null) :
    Closeable {
    var handle: Long = Native.identityClientNew(engine.handle, connectionString, caFile)
        private set

    /** [scopes]: SCOPE_* or-ed (0: no token); [expiresInMinutes] 60–1440 (0: 24 hours). */
    fun createUser(scopes: Int, expiresInMinutes: Int = 0): User =
        Native.identityCreateUser(handle, scopes, expiresInMinutes).let {
            User(it[0] ?: error("user without id"), it[1], it[2])
        }

    fun deleteUser(userId: String) = Native.identityDeleteUser(handle, userId)

    override fun close() {
        Native.identityClientFree(handle)
        handle = 0
    }

    companion object {
        const val SCOPE_CHAT = 1
        const val SCOPE_VOIP = 2
    }
}

/** Chat as one user: the endpoint (`https://…/`) and the user's token with the chat scope. */
class ChatClient(engine: Engine, endpoint: String, userToken: String, caFile: String? = null) :
    Closeable {
    var handle: Long = Native.chatClientNew(engine.handle, endpoint, userToken, caFile)
        private set

    /** From now on the user's chat notifications are engine events (the local service only). */
    fun startEvents() = Native.chatStartEvents(handle)

    /** The thread's id; the caller is always a participant, [participantIds] are the others. */
    fun createThread(topic: String, participantIds: List<String> = emptyList()): String =
        Native.chatCreateThread(handle, topic, participantIds.toTypedArray())

    /** The message's id. */
    fun sendMessage(threadId: String, content: String, senderDisplayName: String? = null): String =
        Native.chatSendMessage(handle, threadId, content, senderDisplayName)

    override fun close() {
        Native.chatClientFree(handle)
        handle = 0
    }
}
