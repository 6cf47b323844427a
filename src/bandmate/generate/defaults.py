"""Generation's defaults, importable without torch (the CLI parses before loading it)."""

# Candidates drawn at a time when neither the settings (--candidates) nor the checkpoint
# (model.json meta `candidates`, `bandmate export --candidates`) name a number.
DEFAULT_CANDIDATES = 8

# Batches of candidates `bandmate generate` draws at most while none is judged music:
# 8 -> up to 32.
DEFAULT_BATCHES = 4
