"""The loops that run tasks: `pretrain`, `finetune`, `evaluate` (one `albert-tf` command each).

The top room of `training`: may import every other room.
"""
