"""One decode step on static buffers, and the same step captured in a CUDA graph and replayed.

Shapes: V vocabulary. The step reads its token [1] and position [1] from buffers it owns and
writes logits [1, V] float32; the KV cache is written in place at that position (the static
layout of core/engine/kv_cache.py, where no tensor changes size or address). Nothing in the
step reads a value back to the host, and every shape is fixed by the model and the cache, so
the kernels it launches, and their grids and arguments, are the same at every position: that
is what a graph replays. tests/core/engine/test_cuda_graphs.py runs the step on meta tensors
(no data: any host read raises) with the Triton kernels' launches recorded.

`DecodeStep` is the step as plain launches, for any device, backend and cache layout. `GraphedDecodeStep`
needs a CUDA device and a backend whose ops are capture-safe (`Ops.graph_safe`: the Triton
kernels; the torch MoE asks the host which experts were chosen). Its first call runs eagerly
(which compiles the kernels and sets up cuBLAS: neither may happen during a capture), the
second captures the step and replays it, later calls only replay: one launch per token
instead of ~1,000.
"""

from __future__ import annotations

import torch

from core.engine.kv_cache import KVCache
from core.engine.transformer import Transformer


class DecodeStep:
    """token [1] int64 on the device, position -> logits [V] float32 on the device, with the
    token's key and value written into `cache` at that position."""

    def __init__(self, transformer: Transformer, cache: KVCache):
        device = transformer.device
        self.transformer = transformer
        self.cache = cache
        self.token = torch.zeros(1, dtype=torch.int64, device=device)      # [1]
        self.position = torch.zeros(1, dtype=torch.int64, device=device)   # [1]
        self.logits = torch.zeros(1, transformer.config.vocab_size, dtype=torch.float32, device=device)  # [1, V]

    def __call__(self, token: torch.Tensor, position: int) -> torch.Tensor:
        self._load(token, position)
        self.run()
        return self.logits[0]

    def _load(self, token: torch.Tensor, position: int) -> None:
        self.token.copy_(token.reshape(1))  # device to device: the token's value stays unknown here
        # fill_ passes the number as a kernel argument; copying it from a CPU tensor would make
        # CUDA wait for the stream before reading pageable memory.
        self.position.fill_(position)

    def run(self) -> None:
        """The step's body: device work only (what a graph captures)."""
        t = self.transformer
        x = t.blocks(self.token, self.position, self.cache)                # [1, D]
        self.logits.copy_(t.unembed(t.final_norm(x)))                     # [1, V]


class GraphedDecodeStep(DecodeStep):
    """`DecodeStep` replayed from a CUDA graph after its first two calls."""

    def __init__(self, transformer: Transformer, cache: KVCache):
        if transformer.device.type != "cuda" or not transformer.ops.graph_safe or not cache.static:
            raise ValueError("CUDA graphs need a CUDA device, capture-safe ops (the triton backend) "
                             "and the static KV cache layout")
        super().__init__(transformer, cache)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.calls = 0

    def __call__(self, token: torch.Tensor, position: int) -> torch.Tensor:
        self._load(token, position)
        self.calls += 1
        if self.calls == 1:
            self._warm_up()
        else:
            if self.graph is None:
                self.graph = self._capture()
            self.graph.replay()
        return self.logits[0]

    def _warm_up(self) -> None:
        # On a side stream, as torch.cuda.graphs asks: lazy initialisations must not land in
        # the capture. This call is also the step itself, so nothing is computed twice.
        stream = torch.cuda.Stream(self.transformer.device)
        stream.wait_stream(torch.cuda.current_stream(self.transformer.device))
        with torch.cuda.stream(stream):
            self.run()
        torch.cuda.current_stream(self.transformer.device).wait_stream(stream)

    def _capture(self) -> torch.cuda.CUDAGraph:
        graph = torch.cuda.CUDAGraph()
        # thread_local: another session's thread may sample or allocate meanwhile (the forward
        # lock keeps only the forwards apart); with "global" its CUDA calls would break the capture.
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            self.run()
        return graph
