"""The official Azure SDK for Python, unchanged, against MediaCore's local service.

Usage: service_sdk_test.py CONNECTION_STRING RELAY_OUT_JSON
The CA must be trusted through REQUESTS_CA_BUNDLE / SSL_CERT_FILE. Writes the relay
credentials of one user to RELAY_OUT_JSON for the coturn check that follows.
Ends with the line "sdk: N passed, M failed" and exits non-zero on any failure.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import time
from datetime import datetime, timedelta, timezone

from azure.communication.identity import (
    CommunicationIdentityClient,
    CommunicationTokenScope,
    CommunicationUserIdentifier,
)
from azure.communication.identity._shared.user_credential import CommunicationTokenCredential
from azure.communication.networktraversal import CommunicationRelayClient, RouteType
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

# The check/report helpers the service's SDK tests share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "service", "sdk-tests"))
from harness import check, finish  # noqa: E402

CONN, RELAY_OUT = sys.argv[1], sys.argv[2]
ENDPOINT = re.search(r"endpoint=([^;]+)", CONN).group(1)
identity = CommunicationIdentityClient.from_connection_string(CONN)
relay = CommunicationRelayClient.from_connection_string(CONN)


def expires_in(expires_on):
    if isinstance(expires_on, str):
        expires_on = datetime.fromisoformat(expires_on.replace("Z", "+00:00"))
    if isinstance(expires_on, datetime):
        return (expires_on - datetime.now(timezone.utc)).total_seconds()
    return expires_on - time.time()  # azure-core AccessToken: epoch seconds


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


state = {}


@check("create_user")
def _():
    user = identity.create_user()
    assert user.properties["id"].startswith("8:acs:"), user.properties
    state["plain_user"] = user


@check("create_user_and_token(chat, voip)")
def _():
    user, token = identity.create_user_and_token(scopes=[CommunicationTokenScope.CHAT, CommunicationTokenScope.VOIP])
    assert user.properties["id"].startswith("8:acs:")
    left = expires_in(token.expires_on)
    assert 86_000 < left <= 86_400, left
    claims = jwt_payload(token.token)
    assert claims["acsScope"] == "chat,voip" and claims["skypeid"] == user.properties["id"][2:], claims
    state["user"], state["token"] = user, token.token


@check("create_user_and_token(token_expires_in=1h)")
def _():
    _, token = identity.create_user_and_token(scopes=["voip"], token_expires_in=timedelta(hours=1))
    assert 3_500 < expires_in(token.expires_on) <= 3_600


@check("get_token(voip, 60 min)")
def _():
    token = identity.get_token(state["user"], scopes=[CommunicationTokenScope.VOIP], token_expires_in=timedelta(minutes=60))
    assert 3_500 < expires_in(token.expires_on) <= 3_600
    assert jwt_payload(token.token)["acsScope"] == "voip"
    state["voip_token"] = token.token


@check("get_token with 30 min is refused (400)")
def _():
    try:
        identity.get_token(state["user"], scopes=["chat"], token_expires_in=timedelta(minutes=30))
    except HttpResponseError as e:
        assert e.status_code == 400, e.status_code
        assert e.error is not None and e.error.code == "BadRequest", e.error
        return
    raise AssertionError("no error")


@check("get_relay_configuration(user) and coturn credentials")
def _():
    cfg = relay.get_relay_configuration(user=state["user"])
    assert {s.route_type for s in cfg.ice_servers} == {"any", "nearest"}
    server = cfg.ice_servers[0]
    expiry, user_id = server.username.split(":", 1)
    assert user_id == state["user"].properties["id"]
    assert int(expiry) > time.time() + 3600
    with open(RELAY_OUT, "w") as f:
        json.dump({"urls": server.urls, "username": server.username, "credential": server.credential}, f)


@check("get_relay_configuration(route_type=nearest, ttl=600)")
def _():
    cfg = relay.get_relay_configuration(route_type=RouteType.NEAREST, ttl=600)
    assert [s.route_type for s in cfg.ice_servers] == ["nearest"]
    assert 500 < expires_in(cfg.expires_on) <= 600


@check("relay client with the user's access token")
def _():
    client = CommunicationRelayClient(ENDPOINT, CommunicationTokenCredential(state["voip_token"]))
    cfg = client.get_relay_configuration()
    assert cfg.ice_servers[0].username.endswith(":" + state["user"].properties["id"])


@check("revoke_tokens, then the old token is refused (401)")
def _():
    identity.revoke_tokens(state["user"])
    client = CommunicationRelayClient(ENDPOINT, CommunicationTokenCredential(state["voip_token"]))
    try:
        client.get_relay_configuration()
    except ClientAuthenticationError as e:
        assert e.status_code == 401
        return
    raise AssertionError("revoked token accepted")


@check("delete_user, then get_token is 404")
def _():
    identity.delete_user(state["plain_user"])
    try:
        identity.get_token(state["plain_user"], scopes=["chat"])
    except ResourceNotFoundError as e:
        assert e.status_code == 404
        return
    raise AssertionError("deleted user still issues tokens")


@check("wrong access key gives HttpResponseError 401")
def _():
    wrong = re.sub(r"accesskey=[^;]+", "accesskey=" + base64.b64encode(b"\x07" * 32).decode(), CONN)
    try:
        CommunicationIdentityClient.from_connection_string(wrong).create_user()
    except HttpResponseError as e:
        assert e.status_code == 401, e.status_code
        assert e.error is not None and e.error.code == "Denied", e.error
        return
    raise AssertionError("wrong key accepted")


class LocalEntraCredential:
    """A service principal's TokenCredential for the issuer the service was configured with
    (MEDIACORE_SERVICE_ENTRA_ISSUER/_KEY), standing in for Entra ID."""

    def get_token(self, *scopes, **kwargs):
        assert scopes == ("https://communication.azure.com//.default",), scopes
        now = int(time.time())
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64(json.dumps({"iss": os.environ["MEDIACORE_SERVICE_ENTRA_ISSUER"],
                                  "aud": "https://communication.azure.com", "nbf": now, "exp": now + 3600}).encode())
        key = base64.b64decode(os.environ["MEDIACORE_SERVICE_ENTRA_KEY"])
        sig = b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return AccessToken(f"{header}.{payload}.{sig}", now + 3600)


@check("identity client with a service-principal TokenCredential")
def _():
    client = CommunicationIdentityClient(ENDPOINT, LocalEntraCredential())
    user, token = client.create_user_and_token(scopes=["chat"])
    client.delete_user(user)


finish("sdk")
