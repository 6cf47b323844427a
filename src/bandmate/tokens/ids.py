"""The special ids every token layout shares (layout.py, events.py)."""

PAD_ID = 0  # padding, and the decoder's start token (as in T5)
EOS_ID = 1
NUM_SPECIALS = 2
