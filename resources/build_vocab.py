"""Rebuilds resources/o200k_base.tiktoken from the token table of the MIT-licensed `toktok-rs`
package (0.3.0), which has OpenAI's o200k_base vocabulary compiled in.

A maintenance script, not part of the app: Hearth reads the committed file and never imports
toktok. Run it by hand after `pip install toktok-rs==0.3.0`:

    python3 resources/build_vocab.py            # writes resources/o200k_base.tiktoken
    python3 resources/build_vocab.py --check    # only verifies the committed file

The output is byte-identical to the file tiktoken publishes (one `base64(token) rank` line per
rank, ranks 0..199997 in order); the hash below is that file's published sha256.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
from pathlib import Path

EXPECTED_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
EXPECTED_SIZE = 3_613_922
TARGET = Path(__file__).resolve().parent / "o200k_base.tiktoken"


def build() -> bytes:
    import toktok  # only this script needs it

    # `_encoding` is toktok's private accessor for the full tokenizer surface; its public API
    # only counts tokens.
    table = toktok._encoding("o200k_base").token_byte_values()
    return b"".join(base64.b64encode(token) + b" %d\n" % rank for rank, token in enumerate(table))


def verify(data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != EXPECTED_SIZE or digest != EXPECTED_SHA256:
        raise SystemExit(f"vocabulary mismatch: {len(data)} bytes, sha256 {digest}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed file only")
    args = parser.parse_args()
    if args.check:
        verify(TARGET.read_bytes())
    else:
        data = build()
        verify(data)
        TARGET.write_bytes(data)
    print(f"{TARGET.name}: {EXPECTED_SIZE} bytes, sha256 {EXPECTED_SHA256} (ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
