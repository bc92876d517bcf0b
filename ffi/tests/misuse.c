/* The C ABI under misuse: NULL handles and out-parameters, invalid values and sizes, calls in
 * the wrong state, stale and forged handles, double frees, and callbacks that call back into
 * the API, poll, free the call or free the engine. Each must return its error code with a
 * message, never crash or leak; scripts/c-misuse.sh runs this under ASan + UBSan with leak
 * detection.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mediacore.h"

static int failures = 0;
static int checks = 0;

/* Expects `got` to be `want`; for errors, a non-empty last-error message too. */
static void expect(const char *what, mc_status got, mc_status want) {
    const char *message = mc_last_error_message();
    checks++;
    if (got != want) {
        fprintf(stderr, "FAIL %s: status %d, expected %d (%s)\n", what, got, want, message);
        failures++;
    } else if (want != MC_OK && (message == NULL || message[0] == '\0')) {
        fprintf(stderr, "FAIL %s: status %d without a message\n", what, got);
        failures++;
    } else if (want == MC_OK && message[0] != '\0') {
        fprintf(stderr, "FAIL %s: success left the message '%s'\n", what, message);
        failures++;
    }
}

#define EXPECT(call, want) expect(#call, (call), (want))

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void null_arguments(void) {
    mc_engine *engine = NULL;
    mc_call *call = NULL;
    char *sdp = NULL;
    size_t n = 0;
    int16_t pcm[480] = {0};
    mc_event event;
    mc_call_stats stats;

    EXPECT(mc_engine_options_default(NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_engine_new(NULL, NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_engine_poll_event(NULL, &event, 0), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_options_default(NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_new(NULL, NULL, &call), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_create_offer(NULL, &sdp), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_accept_offer(NULL, "v=0", &sdp), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_accept_answer(NULL, "v=0"), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_add_remote_candidate(NULL, "candidate:1"), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_audio_block_len(NULL, &n, &n), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_process_audio(NULL, pcm, 480, pcm, 480), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_get_stats(NULL, &stats), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_hang_up(NULL), MC_ERR_NULL_POINTER);
    /* Frees of NULL are no-ops. */
    mc_engine_free(NULL);
    mc_call_free(NULL);
    mc_string_free(NULL);

    EXPECT(mc_engine_new(NULL, &engine), MC_OK);
    EXPECT(mc_engine_poll_event(engine, NULL, 0), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_new(engine, NULL, NULL), MC_ERR_NULL_POINTER);
    mc_call_options options;
    EXPECT(mc_call_options_default(&options), MC_OK);
    options.bind_address = "127.0.0.1";
    EXPECT(mc_call_new(engine, &options, &call), MC_OK);
    EXPECT(mc_call_create_offer(call, NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_accept_offer(call, NULL, &sdp), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_accept_answer(call, NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_add_remote_candidate(call, NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_audio_block_len(call, NULL, &n), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_audio_block_len(call, &n, NULL), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_process_audio(call, NULL, 480, pcm, 480), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_process_audio(call, pcm, 480, NULL, 480), MC_ERR_NULL_POINTER);
    EXPECT(mc_call_get_stats(call, NULL), MC_ERR_NULL_POINTER);
    mc_call_free(call);
    mc_engine_free(engine);
}

static void invalid_values(void) {
    mc_engine *engine = NULL;
    mc_engine_options eo;
    EXPECT(mc_engine_options_default(&eo), MC_OK);
    eo.struct_size = 3;
    EXPECT(mc_engine_new(&eo, &engine), MC_ERR_INVALID_ARGUMENT);
    if (engine != NULL) {
        fprintf(stderr, "FAIL: a failed mc_engine_new left a handle\n");
        failures++;
    }
    EXPECT(mc_engine_options_default(&eo), MC_OK);
    eo.worker_threads = 0;
    EXPECT(mc_engine_new(&eo, &engine), MC_ERR_INVALID_ARGUMENT);
    eo.worker_threads = 1000;
    EXPECT(mc_engine_new(&eo, &engine), MC_ERR_INVALID_ARGUMENT);

    EXPECT(mc_engine_new(NULL, &engine), MC_OK);
    mc_call *call = NULL;
    mc_call_options options;
    mc_call_options_default(&options);
    options.struct_size = sizeof options + 8;
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);
    mc_call_options_default(&options);
    options.bind_address = "not-an-address";
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);
    mc_call_options_default(&options);
    options.opus_bitrate_bps = 1000;
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);
    mc_call_options_default(&options);
    options.ice_server_count = 17;
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);
    options.ice_server_count = 1;
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_NULL_POINTER);
    mc_ice_server bad_server = {"ftp://127.0.0.1:3478", NULL, NULL};
    options.ice_servers = &bad_server;
    options.bind_address = "127.0.0.1";
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);
    const char not_utf8[] = {'\xff', '\xfe', 0};
    mc_call_options_default(&options);
    options.cname = not_utf8;
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_ARGUMENT);

    mc_call_options_default(&options);
    options.bind_address = "127.0.0.1";
    EXPECT(mc_call_new(engine, &options, &call), MC_OK);
    int16_t pcm[960] = {0};
    EXPECT(mc_call_process_audio(call, pcm, 479, pcm + 480, 480), MC_ERR_INVALID_ARGUMENT);
    EXPECT(mc_call_process_audio(call, pcm, 480, pcm + 480, 960), MC_ERR_INVALID_ARGUMENT);
    EXPECT(mc_call_process_audio(call, pcm, 480, pcm + 480, 480), MC_OK);
    EXPECT(mc_call_add_remote_candidate(call, not_utf8), MC_ERR_INVALID_ARGUMENT);
    char *sdp = NULL;
    EXPECT(mc_call_accept_offer(call, "this is not SDP", &sdp), MC_ERR_SESSION);
    if (sdp != NULL) {
        fprintf(stderr, "FAIL: a failed accept_offer returned a string\n");
        failures++;
    }
    /* Drain what the call reported, then the queue is empty. */
    mc_event event;
    while (mc_engine_poll_event(engine, &event, 0) == MC_OK) {
    }
    EXPECT(mc_engine_poll_event(engine, &event, 0), MC_ERR_TIMEOUT);
    mc_call_free(call);
    mc_engine_free(engine);
}

static void wrong_state(void) {
    mc_engine *engine = NULL;
    EXPECT(mc_engine_new(NULL, &engine), MC_OK);
    mc_call_options options;
    mc_call_options_default(&options);
    options.bind_address = "127.0.0.1";
    mc_call *call = NULL;
    EXPECT(mc_call_new(engine, &options, &call), MC_OK);
    /* An answer with no offer made. */
    EXPECT(mc_call_accept_answer(call, "v=0\r\n"), MC_ERR_SESSION);
    EXPECT(mc_call_hang_up(call), MC_OK);
    /* After hanging up: the handle is valid, the call is not. */
    char *sdp = NULL;
    EXPECT(mc_call_create_offer(call, &sdp), MC_ERR_INVALID_STATE);
    EXPECT(mc_call_hang_up(call), MC_ERR_INVALID_STATE);
    mc_call_stats stats;
    EXPECT(mc_call_get_stats(call, &stats), MC_ERR_INVALID_STATE);

    /* Stale, forged and wrong-type handles. */
    mc_call_free(call);
    EXPECT(mc_call_hang_up(call), MC_ERR_INVALID_HANDLE);
    mc_call_free(call); /* a double free is reported, not undefined */
    EXPECT(mc_call_hang_up((mc_call *)(uintptr_t)0x1234), MC_ERR_INVALID_HANDLE);
    EXPECT(mc_call_hang_up((mc_call *)engine), MC_ERR_INVALID_HANDLE);
    mc_event event;
    EXPECT(mc_engine_poll_event((mc_engine *)call, &event, 0), MC_ERR_INVALID_HANDLE);
    mc_engine_free(engine);
    EXPECT(mc_engine_poll_event(engine, &event, 0), MC_ERR_INVALID_HANDLE);
    EXPECT(mc_call_new(engine, &options, &call), MC_ERR_INVALID_HANDLE);
}

/* Callbacks that call back in. */
struct peers {
    mc_engine *engine;
    mc_call *a, *b;
    volatile int connected, reentrant_polls, a_freed, engine_freed, events;
};

static void on_event(const mc_event *e, void *user_data) {
    struct peers *p = user_data;
    p->events++;
    mc_event nested;
    if (mc_engine_poll_event(p->engine, &nested, 0) == MC_ERR_INVALID_STATE) {
        p->reentrant_polls++;
    }
    if (p->engine_freed) {
        return;
    }
    if (e->kind == MC_EVENT_LOCAL_CANDIDATE && !p->a_freed) {
        mc_call *peer = e->call == p->a ? p->b : p->a;
        mc_call_add_remote_candidate(peer, e->text);
    }
    if (e->kind == MC_EVENT_CALL_STATE && e->state == MC_CALL_STATE_CONNECTED) {
        p->connected++;
        if (p->connected == 2) {
            /* Free a call, then the engine, from inside the callback. */
            mc_call_free(p->a);
            p->a_freed = 1;
            mc_call_stats stats;
            if (mc_call_get_stats(p->a, &stats) != MC_ERR_INVALID_HANDLE) {
                fprintf(stderr, "FAIL: a call freed in the callback is still usable\n");
                failures++;
            }
            mc_call_free(p->b);
            mc_engine_free(p->engine);
            p->engine_freed = 1;
        }
    }
}

static void reentrant_callbacks(void) {
    static struct peers p;
    memset((void *)&p, 0, sizeof p);
    mc_engine_options eo;
    mc_engine_options_default(&eo);
    eo.event_callback = on_event;
    eo.user_data = &p;
    EXPECT(mc_engine_new(&eo, &p.engine), MC_OK);
    mc_call_options options;
    mc_call_options_default(&options);
    options.bind_address = "127.0.0.1";
    EXPECT(mc_call_new(p.engine, &options, &p.a), MC_OK);
    EXPECT(mc_call_new(p.engine, &options, &p.b), MC_OK);
    char *offer = NULL, *answer = NULL;
    EXPECT(mc_call_create_offer(p.a, &offer), MC_OK);
    EXPECT(mc_call_accept_offer(p.b, offer, &answer), MC_OK);
    EXPECT(mc_call_accept_answer(p.a, answer), MC_OK);
    mc_string_free(offer);
    mc_string_free(answer);
    for (int i = 0; i < 1500 && !p.engine_freed; i++) {
        sleep_ms(10);
    }
    checks++;
    if (!p.engine_freed || p.reentrant_polls == 0) {
        fprintf(stderr, "FAIL: callbacks: connected %d, engine freed %d, polls refused %d\n",
                p.connected, p.engine_freed, p.reentrant_polls);
        failures++;
    }
    /* Give the event thread time to return from the callback and end. */
    sleep_ms(100);
}

static volatile int log_records = 0;

static void on_log(mc_log_level level, const char *target, const char *message, void *user) {
    (void)user;
    if (level >= MC_LOG_ERROR && level <= MC_LOG_TRACE && target != NULL && message != NULL) {
        log_records++;
    }
    /* Calling back in from the log callback does not recurse or deadlock. */
    mc_engine *engine = NULL;
    mc_engine_poll_event(engine, NULL, 0);
}

static void logging(void) {
    EXPECT(mc_set_log_callback(on_log, NULL, 99), MC_ERR_INVALID_ARGUMENT);
    EXPECT(mc_set_log_callback(on_log, NULL, MC_LOG_TRACE), MC_OK);
    mc_engine *engine = NULL;
    EXPECT(mc_engine_new(NULL, &engine), MC_OK);
    mc_call_options options;
    mc_call_options_default(&options);
    options.bind_address = "127.0.0.1";
    mc_call *a = NULL, *b = NULL;
    EXPECT(mc_call_new(engine, &options, &a), MC_OK);
    EXPECT(mc_call_new(engine, &options, &b), MC_OK);
    char *offer = NULL, *answer = NULL;
    EXPECT(mc_call_create_offer(a, &offer), MC_OK);
    EXPECT(mc_call_accept_offer(b, offer, &answer), MC_OK);
    EXPECT(mc_call_accept_answer(a, answer), MC_OK);
    mc_string_free(offer);
    mc_string_free(answer);
    for (int i = 0; i < 300 && log_records == 0; i++) {
        sleep_ms(10);
    }
    checks++;
    if (log_records == 0) {
        fprintf(stderr, "FAIL: no log record reached the callback\n");
        failures++;
    }
    EXPECT(mc_set_log_callback(NULL, NULL, MC_LOG_OFF), MC_OK);
    mc_call_free(a);
    mc_call_free(b);
    mc_engine_free(engine);
}

int main(void) {
    logging();
    null_arguments();
    invalid_values();
    wrong_state();
    reentrant_callbacks();
    printf("misuse: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
