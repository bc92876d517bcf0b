// The C example (examples/c/call.c) in C++17 through mediacore.hpp. Given a service's
// connection string (MediaCore's local service: the chat event needs its notification
// stream), first a user with a chat+voip token, a chat thread, and a message seen arriving as
// an engine event. Then two calls on the same engine connected over UDP on 127.0.0.1 —
// offer/answer, trickled candidates from the event queue, then SECONDS of audio in real time
// (A sends a WAV file, B silence) — and what B heard written as a WAV. Statistics once a
// second; the user deleted at the end; the handles free themselves.
//
//   call IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]
//     IN: 48 kHz mono 16-bit PCM; SECONDS default 3; CA_FILE: the local service's CA (PEM)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mediacore.hpp"

namespace {

std::uint32_t le32(const unsigned char *b) {
    return b[0] | b[1] << 8 | b[2] << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

// A minimal reader of 16-bit PCM WAV: finds the "data" chunk.
std::vector<std::int16_t> read_wav(const std::string &path) {
    std::ifstream in{path, std::ios::binary};
    std::array<unsigned char, 12> header{};
    if (!in.read(reinterpret_cast<char *>(header.data()), header.size()) ||
        std::memcmp(header.data(), "RIFF", 4) != 0 ||
        std::memcmp(header.data() + 8, "WAVE", 4) != 0) {
        throw std::runtime_error{path + ": not a WAV file"};
    }
    std::array<unsigned char, 8> chunk{};
    while (in.read(reinterpret_cast<char *>(chunk.data()), chunk.size())) {
        std::uint32_t size = le32(chunk.data() + 4);
        if (std::memcmp(chunk.data(), "data", 4) == 0) {
            std::vector<std::int16_t> pcm(size / 2);
            if (!in.read(reinterpret_cast<char *>(pcm.data()),
                         static_cast<std::streamsize>(pcm.size() * 2))) {
                throw std::runtime_error{path + ": short data chunk"};
            }
            return pcm;
        }
        in.seekg(size + (size & 1), std::ios::cur);
    }
    throw std::runtime_error{path + ": no data chunk"};
}

void write_wav(const std::string &path, const std::vector<std::int16_t> &pcm) {
    std::ofstream out{path, std::ios::binary};
    auto put32 = [&out](std::uint32_t v) {
        const char b[4] = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8 & 0xff),
                           static_cast<char>(v >> 16 & 0xff), static_cast<char>(v >> 24)};
        out.write(b, 4);
    };
    auto bytes = static_cast<std::uint32_t>(pcm.size() * 2);
    out.write("RIFF", 4);
    put32(36 + bytes);
    out.write("WAVEfmt ", 8);
    put32(16);
    put32(1 | 1 << 16);   // PCM, mono
    put32(48000);         // sample rate
    put32(48000 * 2);     // byte rate
    put32(2 | 16 << 16);  // block align, bits per sample
    out.write("data", 4);
    put32(bytes);
    out.write(reinterpret_cast<const char *>(pcm.data()), bytes);
    if (!out) {
        throw std::runtime_error{path + ": write failed"};
    }
}

// The platform part of the story: a user with a chat+voip token, a thread, and a message
// seen arriving as an engine event. The user is deleted (and the clients freed) with it.
class Platform {
public:
    Platform(mediacore::Engine &engine, const std::string &connection_string,
             const std::optional<std::string> &ca_file)
        : identity_{engine, connection_string, options(ca_file)},
          user_{identity_.create_user(MC_TOKEN_SCOPE_CHAT | MC_TOKEN_SCOPE_VOIP, 60)},
          chat_{engine, mediacore::connection_string_endpoint(connection_string), user_.token, options(ca_file)} {
        using namespace std::chrono_literals;
        std::cout << "user: " << user_.id << " (token of " << user_.token.size()
                  << " bytes, expires " << user_.expires_on << ")" << std::endl;
        chat_.start_events();  // before the send, so the message is reported
        const mediacore::ChatThread thread = chat_.create_thread("MediaCore C++ example");
        std::cout << "chat: thread " << thread.id << std::endl;
        const std::string message_id = chat_.send_message(thread.id, "hello from C++", "Alice");
        std::cout << "chat: sent message " << message_id << std::endl;
        for (;;) {
            const auto event = engine.poll_event(10s);
            if (!event) {
                throw std::runtime_error{"no chat event within 10 s"};
            }
            if (event->kind == MC_EVENT_CHAT_MESSAGE && event->client == chat_.get() &&
                event->message_id == message_id) {
                std::cout << "chat event: message \"" << event->text << "\" in "
                          << event->thread_id << " from " << event->sender << std::endl;
                break;
            }
        }
    }

    ~Platform() {
        try {
            identity_.delete_user(user_.id);
            std::cout << "user: deleted " << user_.id << std::endl;
        } catch (const mediacore::Error &e) {
            std::cerr << "delete user: " << e.what() << '\n';
        }
    }

    Platform(const Platform &) = delete;
    Platform &operator=(const Platform &) = delete;

private:
    static mc_client_options options(const std::optional<std::string> &ca_file) {
        mc_client_options o = mediacore::client_options();
        o.ca_file = ca_file ? ca_file->c_str() : nullptr;  // read by the client's constructor
        return o;
    }

    mediacore::IdentityClient identity_;
    mediacore::User user_;
    mediacore::ChatClient chat_;
};

// Handles one event: candidates go to the other call; returns true when a call connected.
bool handle_event(const mediacore::Event &e, mediacore::Call &a, mediacore::Call &b) {
    const char *who = e.call == a.get() ? "A" : "B";
    mediacore::Call &peer = e.call == a.get() ? b : a;
    switch (e.kind) {
    case MC_EVENT_LOCAL_CANDIDATE:
        peer.add_remote_candidate(e.text);
        return false;
    case MC_EVENT_CALL_STATE:
        std::cout << "call " << who << ": " << mediacore::state_name(e.state) << std::endl;
        if (e.state == MC_CALL_STATE_FAILED) {
            throw std::runtime_error{std::string{"call "} + who + " failed"};
        }
        return e.state == MC_CALL_STATE_CONNECTED;
    case MC_EVENT_SELECTED_PAIR:
        std::cout << "call " << who << ": pair " << e.text << std::endl;
        return false;
    case MC_EVENT_CALL_FAILED:
        throw std::runtime_error{std::string{"call "} + who + " failed: " + e.text};
    default:
        return false;
    }
}

int run(const std::string &in_path, const std::string &out_path, int seconds,
        const std::optional<std::string> &connection_string,
        const std::optional<std::string> &ca_file) {
    using namespace std::chrono_literals;
    if (mediacore::abi_version() != MC_ABI_VERSION) {
        std::cerr << "library ABI " << mediacore::abi_version() << ", header ABI "
                  << MC_ABI_VERSION << '\n';
        return 1;
    }
    const std::vector<std::int16_t> speech = read_wav(in_path);

    mediacore::Engine engine;
    std::optional<Platform> platform;
    if (connection_string) {
        platform.emplace(engine, *connection_string, ca_file);
    }
    mc_call_options options = mediacore::Call::default_options();
    options.bind_address = "127.0.0.1";
    options.cname = "engine-a";
    mediacore::Call a{engine, options};
    options.cname = "engine-b";
    mediacore::Call b{engine, options};

    a.accept_answer(b.accept_offer(a.create_offer()));

    // Until both are connected: trickle candidates across, print states.
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (int connected = 0; connected < 2;) {
        if (auto event = engine.poll_event(10ms)) {
            connected += handle_event(*event, a, b);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            std::cerr << "not connected within 15 s\n";
            return 1;
        }
    }

    // Every buffer is allocated here, before the real-time loop.
    const auto [capture_len, playout_len] = a.audio_block_len();
    const std::size_t ticks = static_cast<std::size_t>(seconds) * 100;
    std::vector<std::int16_t> heard(ticks * playout_len);
    std::vector<std::int16_t> silence(capture_len), discard(playout_len), block(capture_len);
    auto due = std::chrono::steady_clock::now();
    for (std::size_t t = 0; t < ticks; t++) {
        const std::size_t at = t * capture_len;
        std::fill(block.begin(), block.end(), 0);
        if (at < speech.size()) {
            std::copy_n(speech.begin() + static_cast<std::ptrdiff_t>(at),
                        std::min(capture_len, speech.size() - at), block.begin());
        }
        a.process_audio(block, discard);
        b.process_audio(silence.data(), silence.size(), heard.data() + t * playout_len,
                        playout_len);
        // Events still arrive (e.g. late candidates): drain without waiting.
        while (auto event = engine.poll_event(0ms)) {
            handle_event(*event, a, b);
        }
        if ((t + 1) % 100 == 0) {
            const mc_call_stats st = b.stats();
            std::printf("%2zu s  B: received %llu lost %lld jitter %.1f ms concealed %llu/%llu "
                        "buffer %.1f ms RTT %.2f ms MOS %.2f pair %s<->%s\n",
                        (t + 1) / 100, static_cast<unsigned long long>(st.packets_received),
                        static_cast<long long>(st.packets_lost), st.jitter_ms,
                        static_cast<unsigned long long>(st.concealed_samples),
                        static_cast<unsigned long long>(st.total_samples_received),
                        st.jitter_buffer_delay_ms, st.rtt_ms, st.mos, st.local_candidate_type,
                        st.remote_candidate_type);
            std::fflush(stdout);
        }
        due += 10ms;
        std::this_thread::sleep_until(due);
    }
    write_wav(out_path, heard);
    std::cout << "B heard " << heard.size() << " samples: " << out_path << std::endl;
    a.hang_up();
    return 0;  // b, a, the platform clients and the engine are freed here, in that order
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0]
                  << " IN.wav OUT.wav [SECONDS [CONNECTION_STRING [CA_FILE]]]\n";
        return 2;
    }
    const int seconds = argc > 3 ? std::atoi(argv[3]) : 3;
    if (seconds < 1 || seconds > 60) {
        std::cerr << "SECONDS must be 1 to 60\n";
        return 2;
    }
    try {
        auto arg = [argc, argv](int i) {
            return argc > i ? std::optional<std::string>{argv[i]} : std::nullopt;
        };
        return run(argv[1], argv[2], seconds, arg(4), arg(5));
    } catch (const mediacore::Error &e) {
        std::cerr << "MediaCore error " << e.status() << ": " << e.what() << '\n';
    } catch (const std::exception &e) {
        std::cerr << e.what() << '\n';
    }
    return 1;
}
