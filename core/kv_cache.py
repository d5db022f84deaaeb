"""KV cache aware of the sliding window.

Sliding layers keep only the last `sliding_window` positions, in a ring buffer; full
layers grow (by doubling, up to the context length). Shapes: S slots, Hkv kv heads, hd.

`snapshot()` / `restore()` let a session go back to an earlier position (multi-turn reuse):
the ring buffers are small, so a snapshot copies them; full layers only need their length.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.config import ModelConfig

_FIRST_CAPACITY = 256


class LayerCache:
    def __init__(self, capacity: int, ring: bool, kv_heads: int, head_dim: int, dtype, device):
        self.ring = ring
        self.k = torch.zeros(capacity, kv_heads, head_dim, dtype=dtype, device=device)  # [S, Hkv, hd]
        self.v = torch.zeros_like(self.k)
        self.positions = torch.full((capacity,), -1, dtype=torch.int64, device=device)  # -1: empty
        self.length = 0  # full layers: filled slots

    def update(self, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor, limit: int):
        """Stores the new k/v [T, Hkv, hd] at `positions`; returns what the new queries attend to."""
        if self.ring:
            # Keys of this chunk are attended before the ring overwrites older ones they still need.
            keys = torch.cat([self.k, k]), torch.cat([self.v, v]), torch.cat([self.positions, positions])
            keep = slice(max(0, len(positions) - len(self.positions)), None)
            slots = positions[keep] % len(self.positions)
            self.k[slots], self.v[slots], self.positions[slots] = k[keep], v[keep], positions[keep]
            return keys
        end = self.length + len(positions)
        if end > len(self.positions):
            self._grow(min(limit, max(end, 2 * len(self.positions))))
        self.k[self.length:end], self.v[self.length:end] = k, v
        self.positions[self.length:end] = positions
        self.length = end
        return self.k[:end], self.v[:end], self.positions[:end]

    def _grow(self, capacity: int) -> None:
        old = len(self.positions)
        for name in ("k", "v"):
            tensor = getattr(self, name)
            grown = torch.zeros((capacity, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
            grown[:old] = tensor
            setattr(self, name, grown)
        positions = torch.full((capacity,), -1, dtype=torch.int64, device=self.positions.device)
        positions[:old] = self.positions
        self.positions = positions


@dataclass(frozen=True)
class Snapshot:
    position: int
    rings: tuple  # per layer: (k, v, positions) clones for ring layers, None for full layers


class KVCache:
    def __init__(self, config: ModelConfig, dtype, device, max_positions: int | None = None):
        self.limit = max_positions or config.context_length
        first = min(self.limit, _FIRST_CAPACITY)
        self.layers = [
            LayerCache(min(config.sliding_window, self.limit) if config.is_sliding(i) else first,
                       config.is_sliding(i), config.num_key_value_heads, config.head_dim, dtype, device)
            for i in range(config.num_hidden_layers)
        ]
        self.position = 0

    def snapshot(self) -> Snapshot:
        rings = tuple((c.k.clone(), c.v.clone(), c.positions.clone()) if c.ring else None for c in self.layers)
        return Snapshot(self.position, rings)

    def restore(self, snapshot: Snapshot) -> None:
        for cache, ring in zip(self.layers, snapshot.rings, strict=True):
            if ring is None:
                cache.length = snapshot.position
            else:
                cache.k.copy_(ring[0])
                cache.v.copy_(ring[1])
                cache.positions.copy_(ring[2])
        self.position = snapshot.position

    def nbytes(self) -> int:
        return sum(c.k.nbytes + c.v.nbytes + c.positions.nbytes for c in self.layers)
