"""Hearth's desktop app (PySide6): `app.main()` opens the window.

Layout: `app` (start-up), `main_window` (pages and wiring), `conversations_controller` (the list of
chats, export, instructions), `chat_controller` (a chat's turns) with `answer_stream` (the answer
being written), `models_controller` and `model_loader` (GUI-thread logic), `local_api` (the opt-in
API toggle), `egress_monitor` (the egress guard's count, on the GUI thread), `history` (SQLite),
`settings` (typed QSettings),
`theme`, `markdown` and `export` (Qt-free helpers), `workers/` (the inference worker, model
jobs and the background call, each on its own QThread) and `widgets/` (one widget per file).
The window never runs torch: only `workers/engine_adapter.py` reaches the engine.
"""
