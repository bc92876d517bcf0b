/* Two MediaCore calls on one engine, connected over UDP on 127.0.0.1 through the C ABI:
 * offer/answer, trickled ICE candidates from the event queue, then SECONDS of audio in real
 * time — call A sends a WAV file, call B sends silence — and what B heard written as a WAV.
 * Statistics once a second; every handle freed at the end.
 *
 *   call IN.wav OUT.wav [SECONDS]     (IN: 48 kHz mono 16-bit PCM; SECONDS default 3)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mediacore.h"

#define CHECK(call)                                                                      \
    do {                                                                                 \
        mc_status status_ = (call);                                                      \
        if (status_ != MC_OK) {                                                          \
            fprintf(stderr, "%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, status_, \
                    mc_last_error_message());                                            \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

/* A minimal reader of 16-bit PCM WAV: finds the "data" chunk. */
static int16_t *read_wav(const char *path, size_t *samples) {
    FILE *f = fopen(path, "rb");
    unsigned char header[12], chunk[8];
    int16_t *pcm = NULL;
    if (f == NULL || fread(header, 1, 12, f) != 12 || memcmp(header, "RIFF", 4) != 0 ||
        memcmp(header + 8, "WAVE", 4) != 0) {
        fprintf(stderr, "%s: not a WAV file\n", path);
        exit(1);
    }
    while (fread(chunk, 1, 8, f) == 8) {
        uint32_t size = chunk[4] | chunk[5] << 8 | chunk[6] << 16 | (uint32_t)chunk[7] << 24;
        if (memcmp(chunk, "data", 4) == 0) {
            pcm = malloc(size);
            if (pcm == NULL || fread(pcm, 1, size, f) != size) {
                fprintf(stderr, "%s: short data chunk\n", path);
                exit(1);
            }
            *samples = size / 2;
            fclose(f);
            return pcm;
        }
        fseek(f, (long)(size + (size & 1)), SEEK_CUR);
    }
    fprintf(stderr, "%s: no data chunk\n", path);
    exit(1);
}

static void put32(FILE *f, uint32_t v) {
    unsigned char b[4] = {v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24 & 0xff};
    fwrite(b, 1, 4, f);
}

static void write_wav(const char *path, const int16_t *pcm, size_t samples) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(1);
    }
    fwrite("RIFF", 1, 4, f);
    put32(f, (uint32_t)(36 + samples * 2));
    fwrite("WAVEfmt ", 1, 8, f);
    put32(f, 16);
    put32(f, 1 | 1 << 16);           /* PCM, mono */
    put32(f, 48000);                 /* sample rate */
    put32(f, 48000 * 2);             /* byte rate */
    put32(f, 2 | 16 << 16);          /* block align, bits per sample */
    fwrite("data", 1, 4, f);
    put32(f, (uint32_t)(samples * 2));
    fwrite(pcm, 2, samples, f);
    fclose(f);
}

static const char *state_name(mc_call_state s) {
    static const char *names[] = {"new", "connecting", "connected", "disconnected", "failed",
                                  "closed"};
    return s <= MC_CALL_STATE_CLOSED ? names[s] : "?";
}

/* Handles one event: candidates go to the other call; returns 1 when a call connected. */
static int handle_event(const mc_event *e, mc_call *a, mc_call *b) {
    const char *who = e->call == a ? "A" : "B";
    mc_call *peer = e->call == a ? b : a;
    switch (e->kind) {
    case MC_EVENT_LOCAL_CANDIDATE:
        CHECK(mc_call_add_remote_candidate(peer, e->text));
        return 0;
    case MC_EVENT_CALL_STATE:
        printf("call %s: %s\n", who, state_name(e->state));
        if (e->state == MC_CALL_STATE_FAILED) {
            exit(1);
        }
        return e->state == MC_CALL_STATE_CONNECTED;
    case MC_EVENT_SELECTED_PAIR:
        printf("call %s: pair %s\n", who, e->text);
        return 0;
    case MC_EVENT_CALL_FAILED:
        fprintf(stderr, "call %s failed: %s\n", who, e->text);
        exit(1);
    default:
        return 0;
    }
}

static void tick_until(struct timespec *due, long ms) {
    due->tv_nsec += ms * 1000000L;
    while (due->tv_nsec >= 1000000000L) {
        due->tv_nsec -= 1000000000L;
        due->tv_sec += 1;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, due, NULL) == EINTR) {
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s IN.wav OUT.wav [SECONDS]\n", argv[0]);
        return 2;
    }
    int seconds = argc > 3 ? atoi(argv[3]) : 3;
    if (seconds < 1 || seconds > 60) {
        fprintf(stderr, "SECONDS must be 1 to 60\n");
        return 2;
    }
    if (mc_abi_version() != MC_ABI_VERSION) {
        fprintf(stderr, "library ABI %u, header ABI %u\n", mc_abi_version(), MC_ABI_VERSION);
        return 1;
    }
    size_t speech_len = 0;
    int16_t *speech = read_wav(argv[1], &speech_len);

    mc_engine *engine = NULL;
    CHECK(mc_engine_new(NULL, &engine));
    mc_call_options options;
    CHECK(mc_call_options_default(&options));
    options.bind_address = "127.0.0.1";
    mc_call *a = NULL, *b = NULL;
    options.cname = "engine-a";
    CHECK(mc_call_new(engine, &options, &a));
    options.cname = "engine-b";
    CHECK(mc_call_new(engine, &options, &b));

    char *offer = NULL, *answer = NULL;
    CHECK(mc_call_create_offer(a, &offer));
    CHECK(mc_call_accept_offer(b, offer, &answer));
    CHECK(mc_call_accept_answer(a, answer));
    mc_string_free(offer);
    mc_string_free(answer);

    /* Until both are connected: trickle candidates across, print states. */
    int connected = 0;
    for (int waited = 0; connected < 2; waited += 10) {
        mc_event event;
        mc_status s = mc_engine_poll_event(engine, &event, 10);
        if (s == MC_OK) {
            connected += handle_event(&event, a, b);
        } else if (s != MC_ERR_TIMEOUT) {
            CHECK(s);
        }
        if (waited > 15000) {
            fprintf(stderr, "not connected within 15 s\n");
            return 1;
        }
    }

    size_t capture_len = 0, playout_len = 0;
    CHECK(mc_call_audio_block_len(a, &capture_len, &playout_len));
    size_t ticks = (size_t)seconds * 100;
    int16_t *heard = calloc(ticks * playout_len, sizeof *heard);
    int16_t *silence = calloc(capture_len, sizeof *silence);
    int16_t *discard = calloc(playout_len, sizeof *discard);
    int16_t *block = calloc(capture_len, sizeof *block);
    if (heard == NULL || silence == NULL || discard == NULL || block == NULL) {
        return 1;
    }
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    for (size_t t = 0; t < ticks; t++) {
        size_t at = t * capture_len;
        memset(block, 0, capture_len * sizeof *block);
        if (at < speech_len) {
            size_t n = speech_len - at < capture_len ? speech_len - at : capture_len;
            memcpy(block, speech + at, n * sizeof *block);
        }
        CHECK(mc_call_process_audio(a, block, capture_len, discard, playout_len));
        CHECK(mc_call_process_audio(b, silence, capture_len, heard + t * playout_len,
                                    playout_len));
        /* Events still arrive (e.g. late candidates): drain without waiting. */
        mc_event event;
        while (mc_engine_poll_event(engine, &event, 0) == MC_OK) {
            handle_event(&event, a, b);
        }
        if ((t + 1) % 100 == 0) {
            mc_call_stats st;
            CHECK(mc_call_get_stats(b, &st));
            printf("%2zu s  B: received %llu lost %lld jitter %.1f ms concealed %llu/%llu "
                   "buffer %.1f ms RTT %.2f ms MOS %.2f pair %s<->%s\n",
                   (t + 1) / 100, (unsigned long long)st.packets_received,
                   (long long)st.packets_lost, st.jitter_ms,
                   (unsigned long long)st.concealed_samples,
                   (unsigned long long)st.total_samples_received, st.jitter_buffer_delay_ms,
                   st.rtt_ms, st.mos, st.local_candidate_type, st.remote_candidate_type);
        }
        tick_until(&due, 10);
    }
    write_wav(argv[2], heard, ticks * playout_len);
    printf("B heard %zu samples: %s\n", ticks * playout_len, argv[2]);

    CHECK(mc_call_hang_up(a));
    mc_call_free(a);
    mc_call_free(b);
    mc_engine_free(engine);
    free(heard);
    free(silence);
    free(discard);
    free(block);
    free(speech);
    return 0;
}
