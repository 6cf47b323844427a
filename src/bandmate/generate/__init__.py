"""Generation: constrained sampling with a KV cache, long inputs in windows, audio out."""
