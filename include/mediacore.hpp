// MediaCore for C++17: header-only RAII wrappers over the C ABI (mediacore.h).
//
//   mediacore::Engine engine;                       // throws mediacore::Error on failure
//   mediacore::Call call{engine, options};
//   std::string offer = call.create_offer();
//   call.process_audio(capture, playout);           // the audio thread, every 10 ms
//
//   mediacore::IdentityClient identity{engine, connection_string, options};
//   mediacore::User user = identity.create_user(MC_TOKEN_SCOPE_CHAT | MC_TOKEN_SCOPE_VOIP);
//   mediacore::ChatClient chat{engine, endpoint, user.token, options};
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
#include <vector>

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

// A borrowed C string as std::string ("" for NULL).
inline std::string copy(const char *s) { return s != nullptr ? std::string{s} : std::string{}; }

// The move-only ownership of a C handle freed by `Free`, shared by the wrappers below.
template <class T, void (*Free)(T *)>
class Handle {
public:
    Handle() = default;
    ~Handle() { Free(handle_); }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    Handle(Handle &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Handle &operator=(Handle &&other) noexcept {
        if (this != &other) {
            Free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
        }
        return *this;
    }

    T *get() const noexcept { return handle_; }
    // Gives up ownership: the caller frees the handle.
    T *release() noexcept { return std::exchange(handle_, nullptr); }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // For the C function that makes the handle (only on an empty Handle).
    T **out() noexcept { return &handle_; }

private:
    T *handle_ = nullptr;
};

}  // namespace detail

// The library's version ("major.minor.patch") and ABI version; compare the latter with
// MC_ABI_VERSION at start to catch a program running against another library's header.
inline std::string_view version() noexcept { return mc_version(); }
inline std::uint32_t abi_version() noexcept { return mc_abi_version(); }

/// The endpoint of a connection string `endpoint=…;accesskey=…`: what the user-token clients
/// (chat, calling) take.
inline std::string connection_string_endpoint(const std::string &connection_string) {
    char *endpoint = nullptr;
    detail::check(mc_connection_string_endpoint(connection_string.c_str(), &endpoint));
    return detail::take(endpoint);
}

// One engine event, copied out of the engine's buffer so it outlives the next poll.
struct Event {
    mc_event_kind kind = 0;
    mc_call_state state = MC_CALL_STATE_NEW;
    mc_call *call = nullptr;  // compare with Call::get(); the call may have been freed since
    std::string text;         // the candidate line, failure reason, pair, ... ("" when none)
    std::uint64_t dropped = 0;
    // Chat and signaling events: the client they came from (compare with ChatClient::get())
    // and their ids ("" when none).
    void *client = nullptr;
    std::string thread_id;
    std::string call_id;
    std::string sender;
    std::string message_id;
    std::int32_t code = 0;
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
        Event copy;
        copy.kind = event.kind;
        copy.state = event.state;
        copy.call = event.call;
        copy.text = detail::copy(event.text);
        copy.dropped = event.dropped;
        copy.client = event.client;
        copy.thread_id = detail::copy(event.thread_id);
        copy.call_id = detail::copy(event.call_id);
        copy.sender = detail::copy(event.sender);
        copy.message_id = detail::copy(event.message_id);
        copy.code = event.code;
        return copy;
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

// --- Platform clients (docs/rest.md, "From C"). Every operation blocks until the service
// answers: call them from a worker thread, not the audio thread.

// Defaults to fill and change (ca_file: the local service's CA, read when a client is made,
// so the string needs to live only for the client's constructor).
inline mc_client_options client_options() {
    mc_client_options options{};
    detail::check(mc_client_options_default(&options));
    return options;
}

// A user made by IdentityClient::create_user: its id and, when scopes were asked for, its
// first token ("" otherwise).
struct User {
    std::string id;
    std::string token;
    std::string expires_on;  // ISO 8601, UTC
};

struct Token {
    std::string token;
    std::string expires_on;
};

// Users and their tokens, with the access key of a connection string.
class IdentityClient {
public:
    IdentityClient(Engine &engine, const std::string &connection_string,
                   const mc_client_options &options = client_options()) {
        detail::check(mc_identity_client_new(engine.get(), connection_string.c_str(), &options,
                                             handle_.out()));
    }

    // `scopes`: MC_TOKEN_SCOPE_* OR-ed (0: no token); `expires_in_minutes` 60–1440 (0: 24 h).
    User create_user(mc_token_scopes scopes, std::uint32_t expires_in_minutes = 0) {
        detail::Handle<mc_identity_user, mc_identity_user_free> user;
        detail::check(mc_identity_create_user(handle_.get(), scopes, expires_in_minutes,
                                              user.out()));
        const char *id = nullptr, *token = nullptr, *expires_on = nullptr;
        detail::check(mc_identity_user_id(user.get(), &id));
        detail::check(mc_identity_user_token(user.get(), &token));
        detail::check(mc_identity_user_token_expires_on(user.get(), &expires_on));
        return User{detail::copy(id), detail::copy(token), detail::copy(expires_on)};
    }

    Token issue_token(const std::string &user_id, mc_token_scopes scopes,
                      std::uint32_t expires_in_minutes = 0) {
        char *token = nullptr, *expires_on = nullptr;
        mc_status status = mc_identity_issue_token(handle_.get(), user_id.c_str(), scopes,
                                                   expires_in_minutes, &token, &expires_on);
        // Both owned before a throw (a failure leaves them NULL).
        Token result{detail::take(token), detail::take(expires_on)};
        detail::check(status);
        return result;
    }

    void revoke_tokens(const std::string &user_id) {
        detail::check(mc_identity_revoke_tokens(handle_.get(), user_id.c_str()));
    }

    void delete_user(const std::string &user_id) {
        detail::check(mc_identity_delete_user(handle_.get(), user_id.c_str()));
    }

    mc_identity_client *get() const noexcept { return handle_.get(); }

private:
    detail::Handle<mc_identity_client, mc_identity_client_free> handle_;
};

struct ChatThread {
    std::string id;
    std::size_t invalid_participants = 0;  // participants the service could not add
};

// One message of ChatClient::list_messages ("" for what it lacks: system messages have no
// content or sender).
struct ChatMessage {
    std::string id;
    std::string type;  // text, html, topicUpdated, participantAdded, participantRemoved
    std::string sequence_id;
    std::string content;
    std::string sender_id;
    std::string sender_display_name;
    std::string created_on;
};

// Chat as one user (the endpoint and the user's token with the chat scope).
class ChatClient {
public:
    ChatClient(Engine &engine, const std::string &endpoint, const std::string &user_token,
               const mc_client_options &options = client_options()) {
        detail::check(mc_chat_client_new(engine.get(), endpoint.c_str(), user_token.c_str(),
                                         &options, handle_.out()));
    }

    // From now on the user's chat notifications arrive as engine events (MC_EVENT_CHAT_*,
    // Event::client == get()). The local service only.
    void start_events() { detail::check(mc_chat_client_start_events(handle_.get())); }
    void stop_events() { detail::check(mc_chat_client_stop_events(handle_.get())); }

    // The caller is always a participant; `participant_ids` are the others (`8:acs:…`).
    ChatThread create_thread(const std::string &topic,
                             const std::vector<std::string> &participant_ids = {}) {
        std::vector<const char *> ids;
        ids.reserve(participant_ids.size());
        for (const std::string &id : participant_ids) {
            ids.push_back(id.c_str());
        }
        char *thread_id = nullptr;
        ChatThread thread;
        detail::check(mc_chat_create_thread(handle_.get(), topic.c_str(), ids.data(),
                                            ids.size(), &thread_id,
                                            &thread.invalid_participants));
        thread.id = detail::take(thread_id);
        return thread;
    }

    // Returns the message id.
    std::string send_message(const std::string &thread_id, const std::string &content,
                             const std::optional<std::string> &sender_display_name = {}) {
        char *message_id = nullptr;
        detail::check(mc_chat_send_message(
            handle_.get(), thread_id.c_str(), content.c_str(),
            sender_display_name ? sender_display_name->c_str() : nullptr, &message_id));
        return detail::take(message_id);
    }

    // Every message of the thread, newest first, system messages included.
    std::vector<ChatMessage> list_messages(const std::string &thread_id) {
        detail::Handle<mc_chat_messages, mc_chat_messages_free> messages;
        detail::check(mc_chat_list_messages(handle_.get(), thread_id.c_str(), messages.out()));
        std::size_t count = 0;
        detail::check(mc_chat_messages_count(messages.get(), &count));
        std::vector<ChatMessage> result(count);
        using Accessor = mc_status (*)(const mc_chat_messages *, std::size_t, const char **);
        auto field = [&messages](Accessor accessor, std::size_t i) {
            const char *value = nullptr;
            detail::check(accessor(messages.get(), i, &value));
            return detail::copy(value);
        };
        for (std::size_t i = 0; i < count; i++) {
            result[i] = ChatMessage{field(mc_chat_messages_id, i),
                                    field(mc_chat_messages_type, i),
                                    field(mc_chat_messages_sequence_id, i),
                                    field(mc_chat_messages_content, i),
                                    field(mc_chat_messages_sender_id, i),
                                    field(mc_chat_messages_sender_display_name, i),
                                    field(mc_chat_messages_created_on, i)};
        }
        return result;
    }

    mc_chat_client *get() const noexcept { return handle_.get(); }

private:
    detail::Handle<mc_chat_client, mc_chat_client_free> handle_;
};

}  // namespace mediacore

#endif  // MEDIACORE_HPP
