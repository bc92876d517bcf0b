/* MediaCore's platform clients through the C ABI, against a service given by its connection
 * string (MediaCore's local service, or an ACS resource for everything but the chat events):
 * two users with tokens, a relay configuration ready for a call's options, a chat thread
 * with a message received as a real-time event and listed back, an SMS to two numbers and
 * one refused number with a result per recipient; the users deleted and every handle freed.
 *
 *   platform CONNECTION_STRING [CA_FILE]     (CA_FILE: the local service's CA, PEM)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The endpoint of `endpoint=…;accesskey=…` (the chat client acts as a user: endpoint and
 * token, never the key). */
static char *endpoint_of(const char *connection_string) {
    const char *start = strstr(connection_string, "endpoint=");
    if (start == NULL) {
        fprintf(stderr, "no endpoint= in the connection string\n");
        exit(1);
    }
    start += strlen("endpoint=");
    size_t len = strcspn(start, ";");
    char *endpoint = malloc(len + 1);
    if (endpoint == NULL) {
        exit(1);
    }
    memcpy(endpoint, start, len);
    endpoint[len] = '\0';
    return endpoint;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONNECTION_STRING [CA_FILE]\n", argv[0]);
        return 2;
    }
    if (mc_abi_version() != MC_ABI_VERSION) {
        fprintf(stderr, "library ABI %u, header ABI %u\n", mc_abi_version(), MC_ABI_VERSION);
        return 1;
    }
    const char *connection_string = argv[1];
    char *endpoint = endpoint_of(connection_string);

    mc_engine *engine = NULL;
    CHECK(mc_engine_new(NULL, &engine));
    mc_client_options options;
    CHECK(mc_client_options_default(&options));
    options.ca_file = argc > 2 ? argv[2] : NULL;

    /* Identity: Alice with a chat+voip token, Bob with a chat token. */
    mc_identity_client *identity = NULL;
    CHECK(mc_identity_client_new(engine, connection_string, &options, &identity));
    mc_identity_user *alice = NULL, *bob = NULL;
    CHECK(mc_identity_create_user(identity, MC_TOKEN_SCOPE_CHAT | MC_TOKEN_SCOPE_VOIP, 60,
                                  &alice));
    CHECK(mc_identity_create_user(identity, MC_TOKEN_SCOPE_CHAT, 0, &bob));
    const char *alice_id = NULL, *alice_token = NULL, *alice_expiry = NULL, *bob_id = NULL;
    CHECK(mc_identity_user_id(alice, &alice_id));
    CHECK(mc_identity_user_token(alice, &alice_token));
    CHECK(mc_identity_user_token_expires_on(alice, &alice_expiry));
    CHECK(mc_identity_user_id(bob, &bob_id));
    printf("user: %s (token of %zu bytes, expires %s)\n", alice_id, strlen(alice_token),
           alice_expiry);
    printf("user: %s\n", bob_id);

    /* Relay: ICE servers straight into a call's options. */
    mc_relay_client *relay = NULL;
    CHECK(mc_relay_client_new(engine, connection_string, &options, &relay));
    mc_relay_config *config = NULL;
    CHECK(mc_relay_issue_config(relay, alice_id, MC_RELAY_ROUTE_DEFAULT, 0, &config));
    mc_call_options call_options;
    CHECK(mc_call_options_default(&call_options));
    CHECK(mc_relay_config_ice_servers(config, &call_options.ice_servers,
                                      &call_options.ice_server_count));
    const char *relay_expiry = NULL;
    CHECK(mc_relay_config_expires_on(config, &relay_expiry));
    for (size_t i = 0; i < call_options.ice_server_count; i++) {
        printf("relay: %s%s (expires %s)\n", call_options.ice_servers[i].url,
               call_options.ice_servers[i].username != NULL ? " with credentials" : "",
               relay_expiry);
    }

    /* Chat as Alice: a thread with Bob, a message seen as an event and listed back. */
    mc_chat_client *chat = NULL;
    CHECK(mc_chat_client_new(engine, endpoint, alice_token, &options, &chat));
    CHECK(mc_chat_client_start_events(chat));
    char *thread_id = NULL;
    size_t invalid = 0;
    CHECK(mc_chat_create_thread(chat, "MediaCore C example", &bob_id, 1, &thread_id, &invalid));
    printf("chat: thread %s (%zu participant(s) refused)\n", thread_id, invalid);
    char *message_id = NULL;
    CHECK(mc_chat_send_message(chat, thread_id, "hello from C", "Alice", &message_id));
    printf("chat: sent message %s\n", message_id);
    for (;;) {
        mc_event event;
        CHECK(mc_engine_poll_event(engine, &event, 10000));
        if (event.kind == MC_EVENT_CHAT_MESSAGE && event.client == (void *)chat &&
            strcmp(event.message_id, message_id) == 0) {
            printf("chat event: message \"%s\" in %s from %s\n", event.text, event.thread_id,
                   event.sender);
            break;
        }
    }
    mc_chat_messages *messages = NULL;
    CHECK(mc_chat_list_messages(chat, thread_id, &messages));
    size_t count = 0;
    CHECK(mc_chat_messages_count(messages, &count));
    for (size_t i = 0; i < count; i++) {
        const char *type = NULL, *content = NULL, *sender = NULL;
        CHECK(mc_chat_messages_type(messages, i, &type));
        CHECK(mc_chat_messages_content(messages, i, &content));
        CHECK(mc_chat_messages_sender_display_name(messages, i, &sender));
        printf("chat list: %s %s%s%s\n", type, sender != NULL ? sender : "",
               content != NULL ? ": " : "", content != NULL ? content : "");
    }

    /* SMS: two numbers and one that is not a number: three results, one failed. */
    mc_sms_client *sms = NULL;
    CHECK(mc_sms_client_new(engine, connection_string, &options, &sms));
    const char *to[] = {"+14255550101", "+14255550102", "12"};
    mc_sms_results *results = NULL;
    CHECK(mc_sms_send(sms, "+18005550100", to, 3, "hello from C", NULL, &results));
    CHECK(mc_sms_results_count(results, &count));
    for (size_t i = 0; i < count; i++) {
        const char *recipient = NULL, *id = NULL, *error = NULL;
        bool successful = false;
        uint16_t http_status = 0;
        CHECK(mc_sms_results_to(results, i, &recipient));
        CHECK(mc_sms_results_message_id(results, i, &id));
        CHECK(mc_sms_results_error_message(results, i, &error));
        CHECK(mc_sms_results_status(results, i, &successful, &http_status));
        printf("sms: %s %s %u %s\n", recipient, successful ? "accepted" : "refused",
               (unsigned)http_status, successful ? id : error);
    }

    /* A service error names the HTTP status and the ACS code. */
    char *token = NULL, *expiry = NULL;
    CHECK(mc_identity_revoke_tokens(identity, bob_id));
    CHECK(mc_identity_delete_user(identity, bob_id));
    mc_status status = mc_identity_issue_token(identity, "8:acs:not-a-user", MC_TOKEN_SCOPE_CHAT,
                                               0, &token, &expiry);
    printf("error: status %d (%s): %s\n", status,
           status == MC_ERR_SERVICE ? "MC_ERR_SERVICE" : "unexpected", mc_last_error_message());

    mc_sms_results_free(results);
    mc_sms_client_free(sms);
    mc_chat_messages_free(messages);
    mc_string_free(message_id);
    mc_string_free(thread_id);
    mc_chat_client_free(chat);
    mc_relay_config_free(config);
    mc_relay_client_free(relay);
    CHECK(mc_identity_delete_user(identity, alice_id));
    mc_identity_user_free(alice);
    mc_identity_user_free(bob);
    mc_identity_client_free(identity);
    mc_engine_free(engine);
    free(endpoint);
    printf("done\n");
    return status == MC_ERR_SERVICE ? 0 : 1;
}
