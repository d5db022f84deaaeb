"""The local OpenAI-compatible API: the HTTP server (http.py), /v1/chat/completions
(chat_completions.py), /v1/responses (responses.py) and the line of waiting requests."""
