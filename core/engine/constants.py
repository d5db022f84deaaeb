"""The engine's sizes that the memory plan counts with, in one torch-free module: the engine
uses them, and core/engine/memory_plan.py (which the fit planner runs without torch) imports
them instead of keeping copies in step by comments."""

PREFILL_CHUNK = 256       # prompt tokens per forward: bounds activations, amortizes reading the experts,
                          # and is how often a long prefill reports progress and checks for a stop
KV_FIRST_CAPACITY = 256   # slots of a growing full layer's first cache buffer (it then doubles)
POSITION_BYTES = 8        # one int64 position per cache slot
