"""Models on a remote OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, Hearth's
own `hearth serve`), answering with the same events as a local model.

Map, in the order a turn runs:
    server.py            `RemoteServer`: address, API key, the organisation's CA, timeouts;
                         `open()` checks the policy first; `models()` lists the server's models
    api_keys.py          `api_key_for`, `ApiKeys`: the key from the environment or the keyring
    request_body.py      `RemoteSettings`; the chat-completions and Responses request bodies
    turn.py              `RemoteModel.generate()`: one turn, streamed, cancellable
    sse.py               server-sent events -> data
    chat_stream.py       chat-completions chunks -> events (reasoning_content / reasoning)
    responses_stream.py  Responses API events -> events (reasoning items)
    event_writer.py      the pieces -> MessageStarted / TextDelta / MessageEnded / ToolCall / TurnEnded
    errors.py            typed errors whose sentences a person understands
    conversation.py      `RemoteConversation`: the history, as core.chat's `Conversation`

Layering: above core.chat (whose events it produces), beside core.server; it imports
core.system for the policy and server addresses, never the engine.
"""

from core.remote.api_keys import ENV_VAR, ApiKeys, KeyringUnavailable, api_key_for
from core.remote.conversation import RemoteConversation
from core.remote.errors import (
    CertificateNotTrusted,
    ModelGone,
    NotAuthorized,
    RemoteError,
    RemoteOffline,
    RequestRefused,
    ServerBusy,
    ServerFailed,
    ServerUnreachable,
    StreamDropped,
)
from core.remote.request_body import RemoteSettings
from core.remote.server import RemoteServer
from core.remote.turn import RemoteModel

__all__ = [
    "ENV_VAR", "ApiKeys", "CertificateNotTrusted", "KeyringUnavailable", "ModelGone", "NotAuthorized",
    "RemoteConversation", "RemoteError", "RemoteModel", "RemoteOffline", "RemoteServer", "RemoteSettings",
    "RequestRefused", "ServerBusy", "ServerFailed", "ServerUnreachable", "StreamDropped", "api_key_for",
]
