// MediaCore for C++17: header-only RAII wrappers over the C ABI (mediacore.h).
//
//   mediacore::Engine engine;                       // throws mediacore::Error on failure
//   mediacore::Call call{engine, options};
//   std::string offer = call.create_offer();
//   call.process_audio(capture, playout);           // the audio thread, every 10 ms
//
// Handles are move-only and freed by their destructors. Failures throw mediacore::Error (the
// mc_status and the message of mc_last_error_message()); the audio path also has a noexcept
// form returning the status (try_process_audio), and neither allocates. Strings MediaCore
// returns become std::string (the C string is freed).
#ifndef MEDIACORE_HPP
#define MEDIACORE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mediacore.h"

namespace mediacore {

// A MediaCore function failed: `status()` is its MC_ERR_… code, `what()` its message.
class Error : public std::runtime_error {
public:
    Error(mc_status status, const char *message)
        : std::runtime_error(message != nullptr && *message != '\0' ? message
                                                                      : "MediaCore error"),
          status_(status) {}
    mc_status status() const noexcept { return status_; }

private:
    mc_status status_;
};

namespace detail {

// Throws on failure; the message is read at once since the next MediaCore call replaces it.
inline void check(mc_status status) {
    if (status != MC_OK) {
        throw Error(status, mc_last_error_message());
    }
}

struct StringFree {
    void operator()(char *s) const noexcept { mc_string_free(s); }
};

// Copies a string MediaCore returned and frees it (also when the copy throws).
inline std::string take(char *s) {
    std::unique_ptr<char, StringFree> owned{s};
    return owned ? std::string{owned.get()} : std::string{};
}

}  // namespace detail

// The library's version ("major.minor.patch") and ABI version; compare the latter with
// MC_ABI_VERSION at start to catch a program running against another library's header.
inline std::string_view version() noexcept { return mc_version(); }
inline std::uint32_t abi_version() noexcept { return mc_abi_version(); }

// One engine event, copied out of the engine's buffer so it outlives the next poll.
struct Event {
    mc_event_kind kind = 0;
    mc_call_state state = MC_CALL_STATE_NEW;
    mc_call *call = nullptr;  // compare with Call::get(); the call may have been freed since
    std::string text;         // the candidate line, failure reason, pair, ... ("" when none)
    std::uint64_t dropped = 0;
};

class Engine {
public:
    // Defaults to fill and change before constructing an Engine from them.
    static mc_engine_options default_options() {
        mc_engine_options options{};
        detail::check(mc_engine_options_default(&options));
        return options;
    }

    // An engine with the default options: events are polled (poll_event).
    Engine() { detail::check(mc_engine_new(nullptr, &handle_)); }

    // With an `event_callback`, the caller keeps `user_data` alive until the engine has
    // stopped: the engine runs until its last call is freed, possibly after this object.
    explicit Engine(const mc_engine_options &options) {
        detail::check(mc_engine_new(&options, &handle_));
    }

    ~Engine() { mc_engine_free(handle_); }
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;
    Engine(Engine &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Engine &operator=(Engine &&other) noexcept {
        if (this != &other) {
            mc_engine_free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
        }
        return *this;
    }

    // The next event, waiting up to `timeout` (negative: for ever); nullopt when none came.
    std::optional<Event> poll_event(std::chrono::milliseconds timeout) {
        mc_event event{};
        auto ms = timeout.count();
        if (ms > INT32_MAX) {
            ms = INT32_MAX;
        } else if (ms < 0) {
            ms = -1;
        }
        mc_status status = mc_engine_poll_event(handle_, &event, static_cast<std::int32_t>(ms));
        if (status == MC_ERR_TIMEOUT) {
            return std::nullopt;
        }
        detail::check(status);
        return Event{event.kind, event.state, event.call,
                     event.text != nullptr ? std::string{event.text} : std::string{},
                     event.dropped};
    }

    mc_engine *get() const noexcept { return handle_; }
    // Gives up ownership: the caller frees the handle with mc_engine_free.
    mc_engine *release() noexcept { return std::exchange(handle_, nullptr); }
    explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
    mc_engine *handle_ = nullptr;
};

// The sizes of one 10 ms audio block, in int16_t samples.
struct AudioBlockLen {
    std::size_t capture;
    std::size_t playout;
};

class Call {
public:
    static mc_call_options default_options() {
        mc_call_options options{};
        detail::check(mc_call_options_default(&options));
        return options;
    }

    // Binds the call's sockets and starts gathering candidates (reported as events).
    explicit Call(Engine &engine) { detail::check(mc_call_new(engine.get(), nullptr, &handle_)); }
    // `options`' strings and servers need to live only for the constructor.
    Call(Engine &engine, const mc_call_options &options) {
        detail::check(mc_call_new(engine.get(), &options, &handle_));
    }

    ~Call() { mc_call_free(handle_); }
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;
    Call(Call &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Call &operator=(Call &&other) noexcept {
        if (this != &other) {
            mc_call_free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
        }
        return *this;
    }

    std::string create_offer() {
        char *sdp = nullptr;
        detail::check(mc_call_create_offer(handle_, &sdp));
        return detail::take(sdp);
    }

    // Takes the peer's offer and returns the answer.
    std::string accept_offer(const std::string &offer) {
        char *answer = nullptr;
        detail::check(mc_call_accept_offer(handle_, offer.c_str(), &answer));
        return detail::take(answer);
    }

    void accept_answer(const std::string &answer) {
        detail::check(mc_call_accept_answer(handle_, answer.c_str()));
    }

    // A candidate the peer trickled (`candidate:…`, with or without `a=`).
    void add_remote_candidate(const std::string &candidate) {
        detail::check(mc_call_add_remote_candidate(handle_, candidate.c_str()));
    }

    AudioBlockLen audio_block_len() const {
        AudioBlockLen len{0, 0};
        detail::check(mc_call_audio_block_len(handle_, &len.capture, &len.playout));
        return len;
    }

    // The audio thread's tick, every 10 ms: sends one block of capture and fills playout.
    // Returns the status instead of throwing (MC_ERR_BUSY: another thread is in the call's
    // audio path), for audio callbacks that must not unwind.
    mc_status try_process_audio(const std::int16_t *capture, std::size_t capture_len,
                                std::int16_t *playout, std::size_t playout_len) noexcept {
        return mc_call_process_audio(handle_, capture, capture_len, playout, playout_len);
    }

    void process_audio(const std::int16_t *capture, std::size_t capture_len,
                       std::int16_t *playout, std::size_t playout_len) {
        detail::check(try_process_audio(capture, capture_len, playout, playout_len));
    }

    // Any contiguous int16_t containers (std::array, std::vector, C arrays, std::span).
    template <class Capture, class Playout>
    void process_audio(const Capture &capture, Playout &playout) {
        static_assert(std::is_same_v<std::remove_cv_t<std::remove_pointer_t<decltype(
                                         std::data(capture))>>,
                                     std::int16_t> &&
                          std::is_same_v<std::remove_pointer_t<decltype(std::data(playout))>,
                                         std::int16_t>,
                      "audio blocks are int16_t samples");
        process_audio(std::data(capture), std::size(capture), std::data(playout),
                      std::size(playout));
    }

    mc_call_stats stats() const {
        mc_call_stats stats{};
        detail::check(mc_call_get_stats(handle_, &stats));
        return stats;
    }

    // Tells the peer and closes the call; the object stays valid (stats still work).
    void hang_up() { detail::check(mc_call_hang_up(handle_)); }

    mc_call *get() const noexcept { return handle_; }
    // Gives up ownership: the caller frees the handle with mc_call_free.
    mc_call *release() noexcept { return std::exchange(handle_, nullptr); }
    explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
    mc_call *handle_ = nullptr;
};

// The name of a call state ("connected", ...), "?" for an unknown one.
inline std::string_view state_name(mc_call_state state) noexcept {
    constexpr std::string_view names[] = {"new",          "connecting", "connected",
                                          "disconnected", "failed",     "closed"};
    return state <= MC_CALL_STATE_CLOSED ? names[state] : "?";
}

}  // namespace mediacore

#endif  // MEDIACORE_HPP
