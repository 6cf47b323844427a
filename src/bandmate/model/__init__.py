"""The T5 1.1 encoder-decoder (no training code here).

- `config.py`: `T5Config`, presets tiny/small/base, `preset_config`.
- `t5.py`: `T5` with `encode(ids, mask) -> EncoderMemory`, `init_cache(memory, M) ->
  DecodeCache`, `decode_step(tokens, cache) -> logits`, and the teacher-forced `forward`.
- `checkpoint.py`: `save_model`, `load_checkpoint(dir) -> (model, layout, meta)`.
- `hf.py`: weight mapping onto transformers' T5ForConditionalGeneration.
"""
