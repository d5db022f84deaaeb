"""The gpt-oss model in PyTorch: config and catalogue (the published models' shapes), the
checkpoint reader (MXFP4 experts read in place), the transformer, rope, KV cache, backends
(torch, compiled CPU, Triton), sampling, the memory plan, and `load_model` / `Model` /
`Session` (engine/model.py). Imports nothing of the project but `kernels` and `core.errors`."""
