"""Training: `bandmate train CONFIG` (config.py, data.py, losses.py, optim.py, loop.py,
checkpoints.py, metrics.py, distributed.py, cli.py), and toolkit.py, the plain functions
(schedule, RNG state, metric records, curves) that the codec's training shares."""
