"""Training: `bandmate train CONFIG` (config.py, data.py, losses.py, optim.py, loop.py,
checkpoints.py, metrics.py, distributed.py, cli.py)."""
