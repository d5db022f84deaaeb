"""Benchmark of multi-turn KV cache reuse in chat: prefill tokens saved and time to first token.

Plays a conversation through `core.chat.conversation.Conversation`, keeping one session for the
whole chat (the cache carries over; only each turn's new tokens are computed). Before each turn
it times the first token of that turn's prompt both ways, best of a few alternating tries: with
the kept cache (then rewound) and in a fresh session (the whole history prefilled again, as a
chat without reuse would). The model is a scripted checkpoint in the published layout with
the full o200k_harmony vocabulary and greedy answers of fixed length, so both runs see exactly
the same prompts; `--model PATH` uses a real model folder instead.

    python bench/bench_chat.py [--turns 8] [--layers 4] [--hidden 256] [--dir bench/out/chat]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTION = ("Turn {i}: here is some more context for you to consider, about the weather, the harvest and "
            "the price of bread in the village this season. What do you make of it?")
ANSWER = "<|channel|>final<|message|>That sounds like a good season for the village.<|return|>"


def scripted_model(folder: Path, layers: int, hidden: int) -> Path:
    from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
    from core.engine.testing import tiny_config
    from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

    if (folder / "model.safetensors.index.json").exists():
        return folder
    tok = load_tokenizer(shipped_vocabulary())
    script = [tok.start, *tok.encode("assistant"), *tok.encode(ANSWER, allow_special=True)]
    config = tiny_config(vocab_size=201088, num_hidden_layers=layers, hidden_size=hidden, intermediate_size=hidden,
                         head_dim=64, num_attention_heads=8, num_key_value_heads=2, sliding_window=128,
                         max_position_embeddings=16384)
    return write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" and")[0],
                                     config=config)


def play(model, tokenizer, turns: int, max_new_tokens: int, repeats: int):
    """Per turn: (the turn's Finished event with the cache kept, the best time to first token of
    `repeats` tries with the cache kept, the best Finished of `repeats` fresh-session prefills of
    the same prompt). Tries alternate, so both kinds see the same machine load."""
    from core.chat.conversation import Conversation
    from core.chat.generate import GenerationSettings, generate
    from core.engine.sampling import SamplingParams

    settings = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=max_new_tokens)
    chat = Conversation(model.new_session(), tokenizer, system="Answer briefly.", settings=settings,
                        current_date="2025-06-28")
    first_token_only = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=1)

    def first_token(session, messages):
        return list(generate(session, tokenizer, messages, settings=first_token_only,
                             current_date=chat.current_date))[-1]  # Finished always comes last

    results = []
    for i in range(turns):
        question = QUESTION.format(i=i + 1)
        asked = [*chat.messages, {"role": "user", "content": question}]
        before = len(chat.session.tokens)
        chat.session.mark()  # so each try with the kept cache starts from the same state
        kept_tries, fresh_tries = [], []
        for _ in range(repeats):
            kept_tries.append(first_token(chat.session, asked).time_to_first_token)
            chat.session.rewind(before)
            fresh_tries.append(first_token(model.new_session(), asked))
        kept = list(chat.send(question))[-1]
        results.append((kept, min(kept_tries), min(fresh_tries, key=lambda f: f.time_to_first_token)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="tries per turn and kind (the best counts)")
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "chat")
    parser.add_argument("--model", type=Path, help="a real model folder instead of the scripted one")
    args = parser.parse_args()

    import torch

    from core import load_model
    from core.chat.tokenizer import load_tokenizer

    folder = args.model or scripted_model(args.dir / f"scripted-{args.layers}x{args.hidden}", args.layers,
                                          args.hidden)
    model = load_model(folder, dtype=None if args.model else torch.float32)
    tokenizer = load_tokenizer(folder)
    c = model.config
    print(f"model: {folder} ({c.num_hidden_layers} layers, hidden {c.hidden_size}, vocab {c.vocab_size})")
    play(model, tokenizer, 1, args.max_new_tokens, 1)  # warm-up: first-call allocations
    results = play(model, tokenizer, args.turns, args.max_new_tokens, args.repeats)

    print(f"{'turn':>4} {'prompt':>7} {'reused':>7} {'computed':>9} {'TTFT reuse':>11} {'TTFT fresh':>11}")
    for i, (k, best_kept, f) in enumerate(results, start=1):
        print(f"{i:>4} {k.prompt_tokens:>7} {k.reused_tokens:>7} {k.prompt_tokens - k.reused_tokens:>9} "
              f"{best_kept:>10.3f}s {f.time_to_first_token:>10.3f}s")
    computed_kept = sum(k.prompt_tokens - k.reused_tokens for k, _, _ in results)
    computed_fresh = sum(f.prompt_tokens for _, _, f in results)
    saved = computed_fresh - computed_kept
    ttft_kept = sum(best for _, best, _ in results)
    ttft_fresh = sum(f.time_to_first_token for _, _, f in results)
    print(f"prefill tokens computed over {args.turns} turns: {computed_kept} with reuse, {computed_fresh} "
          f"without ({saved} saved, {100 * saved / computed_fresh:.1f}%)")
    print(f"time to first token (best of {args.repeats}), summed: {ttft_kept:.2f} s with reuse, "
          f"{ttft_fresh:.2f} s without ({ttft_fresh / ttft_kept:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
