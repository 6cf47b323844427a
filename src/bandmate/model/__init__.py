"""The T5 1.1 encoder-decoder (no training code here; nothing of the project but its
config and errors).

- `config.py`: `T5Config`, presets tiny/mini/small/base, `preset_config`.
- `t5.py`: `T5` with `encode(ids, mask) -> EncoderMemory`, `init_cache(memory, M) ->
  DecodeCache`, `decode_step(tokens, cache) -> logits`, and the teacher-forced `forward`.
- `hf.py`: weight mapping onto transformers' T5ForConditionalGeneration.

Checkpoints (weights + token layout + tokenizer) are `bandmate.checkpoint`, a layer above
this package and bandmate.tokens; the shipped models are `bandmate.checkpoint_files`.
"""
