"""Streaming detokenizer: token ids in, text out, never half a UTF-8 character.

A byte-level BPE token can end inside a multi-byte character ("🧠" is three tokens); the bytes
wait here until the character is complete.
"""

from __future__ import annotations

import codecs

from core.chat.tokenizer import Tokenizer


class StreamingDetokenizer:
    def __init__(self, tokenizer: Tokenizer):
        self._tokenizer = tokenizer
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def add(self, token_id: int) -> str:
        """Text completed by this token ("" while a character is still open)."""
        return self._decoder.decode(self._tokenizer.decode_bytes([token_id]))

    def finish(self) -> str:
        """Whatever is left; an unfinished character becomes U+FFFD. Ready for reuse after."""
        text = self._decoder.decode(b"", final=True)
        self._decoder.reset()
        return text
