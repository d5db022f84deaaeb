"""A chat turn with gpt-oss: the o200k_harmony tokenizer, harmony rendering and parsing,
the event stream, generation (prompt -> events) and the conversation helper."""
