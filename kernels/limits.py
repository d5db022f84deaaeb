"""Sizes the kernels promise not to exceed, torch-free, so the engine's memory plan can count
with them without importing torch."""

# Attention scores of one query chunk stay under this many float32 values (~256 MB), so long
# prompts never build a [Hq, T, S] matrix at once (kernels/attention.py's torch path).
MAX_SCORES = 1 << 26
