"""Training data: pretraining data creation, input pipelines, readers, data configs.

Imports albert_tf and `training`'s bottom room; never `training.tasks` or
`training.loops`.
"""
