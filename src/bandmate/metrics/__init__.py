"""Measurements of generated audio, shared by `generate` (its candidate choice) and
`evaluate` (its report); neither imports the other for them.

- `outcome`: music / silence / noise, automating the thesis's labels;
- `similarity`: chroma and rhythm similarity to the input, and the normalised fit;
- `panel`: the independent judge panel on third-party MIR models, which the candidate
  choice never uses.
"""
