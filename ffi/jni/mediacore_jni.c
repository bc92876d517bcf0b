/* JNI glue over MediaCore's C ABI for the Kotlin/Java class mediacore.Native
 * (examples/kotlin/MediaCore.kt): one C function per Native method, no logic of its own.
 * Handles travel as jlong; the C ABI's handles are registry numbers, so a closed or forged
 * handle is an MC_ERR_INVALID_HANDLE error, not undefined behaviour. A failed status throws
 * mediacore.MediaCoreException(status, mc_last_error_message()).
 *
 * Strings: JNI's "modified UTF-8" equals UTF-8 for text without NUL or characters beyond
 * U+FFFF, which holds for SDP and candidate lines, ids and tokens; chat text beyond U+FFFF
 * (emoji) would need a conversion this glue does not do. */
#include <jni.h>
#include <stddef.h>
#include <stdint.h>

#include "mediacore.h"

#define HANDLE(type, h) ((type *)(uintptr_t)(h))

/* Throws when status is an error; returns whether it did. */
static int throw_if(JNIEnv *env, mc_status status) {
    if (status == MC_OK) {
        return 0;
    }
    const char *message = mc_last_error_message();
    jclass cls = (*env)->FindClass(env, "mediacore/MediaCoreException");
    if (cls == NULL) {
        return 1; /* NoClassDefFoundError is pending */
    }
    jmethodID init = (*env)->GetMethodID(env, cls, "<init>", "(ILjava/lang/String;)V");
    jstring text = (*env)->NewStringUTF(env, message);
    if (init != NULL && text != NULL) {
        jobject e = (*env)->NewObject(env, cls, init, (jint)status, text);
        if (e != NULL) {
            (*env)->Throw(env, (jthrowable)e);
        }
    }
    return 1;
}

/* Copies a string MediaCore returned into a Java string and frees it. */
static jstring take_string(JNIEnv *env, char *s) {
    jstring result = (*env)->NewStringUTF(env, s);
    mc_string_free(s);
    return result;
}

/* A borrowed C string that may be NULL (from Java null), or NULL when it is absent. */
static jstring new_string_or_null(JNIEnv *env, const char *s) {
    return s != NULL ? (*env)->NewStringUTF(env, s) : NULL;
}

/* Up to four Java string arguments as C strings for one MediaCore call: NULL stays NULL
 * (MediaCore reports it when it matters). */
struct strings {
    JNIEnv *env;
    jstring java[4];
    const char *c[4];
    int count;
};

/* Adds one; returns 0 when the JVM is out of memory (an exception is pending). */
static int strings_add(struct strings *s, jstring value) {
    int i = s->count++;
    s->java[i] = value;
    s->c[i] = NULL;
    return value == NULL || (s->c[i] = (*s->env)->GetStringUTFChars(s->env, value, NULL)) != NULL;
}

static void strings_release(struct strings *s) {
    for (int i = 0; i < s->count; i++) {
        if (s->c[i] != NULL) {
            (*s->env)->ReleaseStringUTFChars(s->env, s->java[i], s->c[i]);
        }
    }
    s->count = 0;
}

/* Client options with the CA file (NULL: the system's roots only); the path is read when
 * the client is made. */
static mc_status client_options(mc_client_options *options, const char *ca_file) {
    mc_status status = mc_client_options_default(options);
    options->ca_file = ca_file;
    return status;
}

JNIEXPORT jstring JNICALL Java_mediacore_Native_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, mc_version());
}

JNIEXPORT jint JNICALL Java_mediacore_Native_abiVersion(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return (jint)mc_abi_version();
}

JNIEXPORT jint JNICALL Java_mediacore_Native_headerAbiVersion(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return MC_ABI_VERSION;
}

JNIEXPORT jlong JNICALL Java_mediacore_Native_engineNew(JNIEnv *env, jclass cls) {
    (void)cls;
    mc_engine *engine = NULL;
    if (throw_if(env, mc_engine_new(NULL, &engine))) {
        return 0;
    }
    return (jlong)(uintptr_t)engine;
}

JNIEXPORT void JNICALL Java_mediacore_Native_engineFree(JNIEnv *env, jclass cls, jlong engine) {
    (void)env;
    (void)cls;
    mc_engine_free(HANDLE(mc_engine, engine));
}

/* The next event as a mediacore.Event, or null after timeout_ms without one. */
JNIEXPORT jobject JNICALL Java_mediacore_Native_pollEvent(JNIEnv *env, jclass cls,
                                                          jlong engine, jint timeout_ms) {
    (void)cls;
    mc_event event;
    mc_status status = mc_engine_poll_event(HANDLE(mc_engine, engine), &event, timeout_ms);
    if (status == MC_ERR_TIMEOUT || throw_if(env, status)) {
        return NULL;
    }
    jclass event_cls = (*env)->FindClass(env, "mediacore/Event");
    if (event_cls == NULL) {
        return NULL;
    }
    jmethodID init = (*env)->GetMethodID(
        env, event_cls, "<init>",
        "(IIJLjava/lang/String;JJLjava/lang/String;Ljava/lang/String;Ljava/lang/String;)V");
    if (init == NULL) {
        return NULL;
    }
    /* A NULL from NewStringUTF with a non-NULL source: OutOfMemoryError is pending. */
    jstring text = (*env)->NewStringUTF(env, event.text != NULL ? event.text : "");
    jstring thread_id = new_string_or_null(env, event.thread_id);
    jstring sender = new_string_or_null(env, event.sender);
    jstring message_id = new_string_or_null(env, event.message_id);
    if ((*env)->ExceptionCheck(env)) {
        return NULL;
    }
    return (*env)->NewObject(env, event_cls, init, (jint)event.kind, (jint)event.state,
                             (jlong)(uintptr_t)event.call, text, (jlong)event.dropped,
                             (jlong)(uintptr_t)event.client, thread_id, sender, message_id);
}

JNIEXPORT jlong JNICALL Java_mediacore_Native_callNew(JNIEnv *env, jclass cls, jlong engine,
                                                      jstring bind_address, jstring cname) {
    (void)cls;
    mc_call_options options;
    if (throw_if(env, mc_call_options_default(&options))) {
        return 0;
    }
    const char *address = NULL, *name = NULL;
    if (bind_address != NULL &&
        (address = (*env)->GetStringUTFChars(env, bind_address, NULL)) == NULL) {
        return 0;
    }
    if (cname != NULL && (name = (*env)->GetStringUTFChars(env, cname, NULL)) == NULL) {
        if (address != NULL) {
            (*env)->ReleaseStringUTFChars(env, bind_address, address);
        }
        return 0;
    }
    options.bind_address = address;
    options.cname = name;
    mc_call *call = NULL;
    mc_status status = mc_call_new(HANDLE(mc_engine, engine), &options, &call);
    if (address != NULL) {
        (*env)->ReleaseStringUTFChars(env, bind_address, address);
    }
    if (name != NULL) {
        (*env)->ReleaseStringUTFChars(env, cname, name);
    }
    if (throw_if(env, status)) {
        return 0;
    }
    return (jlong)(uintptr_t)call;
}

JNIEXPORT void JNICALL Java_mediacore_Native_callFree(JNIEnv *env, jclass cls, jlong call) {
    (void)env;
    (void)cls;
    mc_call_free(HANDLE(mc_call, call));
}

JNIEXPORT jstring JNICALL Java_mediacore_Native_createOffer(JNIEnv *env, jclass cls,
                                                            jlong call) {
    (void)cls;
    char *sdp = NULL;
    if (throw_if(env, mc_call_create_offer(HANDLE(mc_call, call), &sdp))) {
        return NULL;
    }
    return take_string(env, sdp);
}

/* The calls taking one string: accept_offer (returns the answer), accept_answer and
 * add_remote_candidate. */
enum string_op { ACCEPT_OFFER, ACCEPT_ANSWER, ADD_CANDIDATE };

static jstring with_string(JNIEnv *env, jlong call, jstring arg, enum string_op op) {
    /* NULL (from Java) reaches MediaCore, which reports it. */
    const char *s = NULL;
    if (arg != NULL && (s = (*env)->GetStringUTFChars(env, arg, NULL)) == NULL) {
        return NULL; /* OutOfMemoryError is pending */
    }
    mc_call *c = HANDLE(mc_call, call);
    char *answer = NULL;
    mc_status status = op == ACCEPT_OFFER    ? mc_call_accept_offer(c, s, &answer)
                       : op == ACCEPT_ANSWER ? mc_call_accept_answer(c, s)
                                             : mc_call_add_remote_candidate(c, s);
    if (s != NULL) {
        (*env)->ReleaseStringUTFChars(env, arg, s);
    }
    if (throw_if(env, status)) {
        return NULL;
    }
    return op == ACCEPT_OFFER ? take_string(env, answer) : NULL;
}

JNIEXPORT jstring JNICALL Java_mediacore_Native_acceptOffer(JNIEnv *env, jclass cls,
                                                            jlong call, jstring offer) {
    (void)cls;
    return with_string(env, call, offer, ACCEPT_OFFER);
}

JNIEXPORT void JNICALL Java_mediacore_Native_acceptAnswer(JNIEnv *env, jclass cls, jlong call,
                                                          jstring answer) {
    (void)cls;
    with_string(env, call, answer, ACCEPT_ANSWER);
}

JNIEXPORT void JNICALL Java_mediacore_Native_addRemoteCandidate(JNIEnv *env, jclass cls,
                                                                jlong call, jstring candidate) {
    (void)cls;
    with_string(env, call, candidate, ADD_CANDIDATE);
}

/* The audio tick. The arrays are pinned (GetPrimitiveArrayCritical: no copy, no allocation
 * in the usual case) only while MediaCore reads and writes them, which never blocks. */
JNIEXPORT jint JNICALL Java_mediacore_Native_processAudio(JNIEnv *env, jclass cls, jlong call,
                                                          jshortArray capture,
                                                          jshortArray playout) {
    (void)cls;
    if (capture == NULL || playout == NULL) {
        mc_status status = mc_call_process_audio(HANDLE(mc_call, call), NULL, 0, NULL, 0);
        throw_if(env, status);
        return status;
    }
    jsize capture_len = (*env)->GetArrayLength(env, capture);
    jsize playout_len = (*env)->GetArrayLength(env, playout);
    jshort *in = (*env)->GetPrimitiveArrayCritical(env, capture, NULL);
    if (in == NULL) {
        return MC_ERR_INTERNAL;
    }
    jshort *out = (*env)->GetPrimitiveArrayCritical(env, playout, NULL);
    if (out == NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, capture, in, JNI_ABORT);
        return MC_ERR_INTERNAL;
    }
    mc_status status = mc_call_process_audio(HANDLE(mc_call, call), in, (size_t)capture_len,
                                             out, (size_t)playout_len);
    (*env)->ReleasePrimitiveArrayCritical(env, playout, out, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, capture, in, JNI_ABORT);
    if (status != MC_ERR_BUSY) {
        throw_if(env, status);
    }
    return status;
}

JNIEXPORT jint JNICALL Java_mediacore_Native_audioBlockLen(JNIEnv *env, jclass cls, jlong call) {
    (void)cls;
    size_t capture_len = 0, playout_len = 0;
    mc_status status = mc_call_audio_block_len(HANDLE(mc_call, call), &capture_len, &playout_len);
    if (throw_if(env, status)) {
        return 0;
    }
    return (jint)capture_len; /* 48 kHz mono: capture and playout blocks are the same size */
}

/* A few statistics: packets sent and received, lost, and the MOS times 100. */
JNIEXPORT jlongArray JNICALL Java_mediacore_Native_stats(JNIEnv *env, jclass cls, jlong call) {
    (void)cls;
    mc_call_stats st;
    if (throw_if(env, mc_call_get_stats(HANDLE(mc_call, call), &st))) {
        return NULL;
    }
    jlong values[5] = {(jlong)st.state, (jlong)st.packets_sent, (jlong)st.packets_received,
                       (jlong)st.packets_lost, (jlong)(st.mos * 100.0 + 0.5)};
    jlongArray result = (*env)->NewLongArray(env, 5);
    if (result != NULL) {
        (*env)->SetLongArrayRegion(env, result, 0, 5, values);
    }
    return result;
}

JNIEXPORT void JNICALL Java_mediacore_Native_hangUp(JNIEnv *env, jclass cls, jlong call) {
    (void)cls;
    throw_if(env, mc_call_hang_up(HANDLE(mc_call, call)));
}

/* --- Identity: users and tokens with the connection string's access key. */

JNIEXPORT jlong JNICALL Java_mediacore_Native_identityClientNew(JNIEnv *env, jclass cls,
                                                                jlong engine,
                                                                jstring connection_string,
                                                                jstring ca_file) {
    (void)cls;
    struct strings s = {env, {NULL}, {NULL}, 0};
    if (!strings_add(&s, connection_string) || !strings_add(&s, ca_file)) {
        strings_release(&s);
        return 0;
    }
    mc_client_options options;
    mc_identity_client *client = NULL;
    mc_status status = client_options(&options, s.c[1]);
    if (status == MC_OK) {
        status = mc_identity_client_new(HANDLE(mc_engine, engine), s.c[0], &options, &client);
    }
    strings_release(&s);
    return throw_if(env, status) ? 0 : (jlong)(uintptr_t)client;
}

JNIEXPORT void JNICALL Java_mediacore_Native_identityClientFree(JNIEnv *env, jclass cls,
                                                                jlong client) {
    (void)env;
    (void)cls;
    mc_identity_client_free(HANDLE(mc_identity_client, client));
}

/* A new user and its first token: {id, token, expiresOn} (token and expiry null when
 * scopes is 0). */
JNIEXPORT jobjectArray JNICALL Java_mediacore_Native_identityCreateUser(JNIEnv *env, jclass cls,
                                                                        jlong client,
                                                                        jint scopes,
                                                                        jint expires_in_minutes) {
    (void)cls;
    mc_identity_user *user = NULL;
    if (throw_if(env, mc_identity_create_user(HANDLE(mc_identity_client, client),
                                              (mc_token_scopes)scopes,
                                              (uint32_t)expires_in_minutes, &user))) {
        return NULL;
    }
    const char *fields[3] = {NULL, NULL, NULL};
    mc_status status = mc_identity_user_id(user, &fields[0]);
    if (status == MC_OK) {
        status = mc_identity_user_token(user, &fields[1]);
    }
    if (status == MC_OK) {
        status = mc_identity_user_token_expires_on(user, &fields[2]);
    }
    jobjectArray result = NULL;
    jclass string_cls = (*env)->FindClass(env, "java/lang/String");
    if (!throw_if(env, status) && string_cls != NULL &&
        (result = (*env)->NewObjectArray(env, 3, string_cls, NULL)) != NULL) {
        for (jsize i = 0; i < 3 && !(*env)->ExceptionCheck(env); i++) {
            jstring value = new_string_or_null(env, fields[i]);
            if (value != NULL) {
                (*env)->SetObjectArrayElement(env, result, i, value);
            }
        }
    }
    mc_identity_user_free(user);
    return (*env)->ExceptionCheck(env) ? NULL : result;
}

JNIEXPORT void JNICALL Java_mediacore_Native_identityDeleteUser(JNIEnv *env, jclass cls,
                                                                jlong client, jstring user_id) {
    (void)cls;
    struct strings s = {env, {NULL}, {NULL}, 0};
    if (!strings_add(&s, user_id)) {
        return;
    }
    mc_status status = mc_identity_delete_user(HANDLE(mc_identity_client, client), s.c[0]);
    strings_release(&s);
    throw_if(env, status);
}

/* --- Chat as one user (endpoint and token); its notifications come as engine events. */

JNIEXPORT jlong JNICALL Java_mediacore_Native_chatClientNew(JNIEnv *env, jclass cls,
                                                            jlong engine, jstring endpoint,
                                                            jstring user_token,
                                                            jstring ca_file) {
    (void)cls;
    struct strings s = {env, {NULL}, {NULL}, 0};
    if (!strings_add(&s, endpoint) || !strings_add(&s, user_token) ||
        !strings_add(&s, ca_file)) {
        strings_release(&s);
        return 0;
    }
    mc_client_options options;
    mc_chat_client *client = NULL;
    mc_status status = client_options(&options, s.c[2]);
    if (status == MC_OK) {
        status = mc_chat_client_new(HANDLE(mc_engine, engine), s.c[0], s.c[1], &options,
                                    &client);
    }
    strings_release(&s);
    return throw_if(env, status) ? 0 : (jlong)(uintptr_t)client;
}

JNIEXPORT void JNICALL Java_mediacore_Native_chatClientFree(JNIEnv *env, jclass cls,
                                                            jlong client) {
    (void)env;
    (void)cls;
    mc_chat_client_free(HANDLE(mc_chat_client, client));
}

JNIEXPORT void JNICALL Java_mediacore_Native_chatStartEvents(JNIEnv *env, jclass cls,
                                                             jlong client) {
    (void)cls;
    throw_if(env, mc_chat_client_start_events(HANDLE(mc_chat_client, client)));
}

/* The new thread's id; participants are the users besides the caller. */
JNIEXPORT jstring JNICALL Java_mediacore_Native_chatCreateThread(JNIEnv *env, jclass cls,
                                                                 jlong client, jstring topic,
                                                                 jobjectArray participants) {
    (void)cls;
    jsize count = participants != NULL ? (*env)->GetArrayLength(env, participants) : 0;
    if (count > 3) {
        /* The glue keeps its strings on the stack; more is not needed by the example. */
        jclass e = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
        if (e != NULL) {
            (*env)->ThrowNew(env, e, "chatCreateThread: at most 3 participants");
        }
        return NULL;
    }
    struct strings s = {env, {NULL}, {NULL}, 0};
    int ok = strings_add(&s, topic);
    for (jsize i = 0; ok && i < count; i++) {
        ok = strings_add(&s, (jstring)(*env)->GetObjectArrayElement(env, participants, i));
    }
    char *thread_id = NULL;
    mc_status status = MC_OK;
    if (ok) {
        status = mc_chat_create_thread(HANDLE(mc_chat_client, client), s.c[0], s.c + 1,
                                       (size_t)count, &thread_id, NULL);
    }
    strings_release(&s);
    if (!ok || throw_if(env, status)) {
        return NULL;
    }
    return take_string(env, thread_id);
}

/* The sent message's id; senderDisplayName may be null. */
JNIEXPORT jstring JNICALL Java_mediacore_Native_chatSendMessage(JNIEnv *env, jclass cls,
                                                                jlong client,
                                                                jstring thread_id,
                                                                jstring content,
                                                                jstring sender_display_name) {
    (void)cls;
    struct strings s = {env, {NULL}, {NULL}, 0};
    char *message_id = NULL;
    mc_status status = MC_OK;
    int ok = strings_add(&s, thread_id) && strings_add(&s, content) &&
             strings_add(&s, sender_display_name);
    if (ok) {
        status = mc_chat_send_message(HANDLE(mc_chat_client, client), s.c[0], s.c[1], s.c[2],
                                      &message_id);
    }
    strings_release(&s);
    if (!ok || throw_if(env, status)) {
        return NULL;
    }
    return take_string(env, message_id);
}
