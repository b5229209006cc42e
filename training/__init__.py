"""Training: pretraining and fine-tuning of albert_tf models through `model.fit`.

Rooms, from the bottom up (each imports only rooms above it in this list,
and albert_tf; never serving or pipeline):

- `config` (experiment configs), `metrics` and `squad` (official task
  metrics), `optimization` (LAMB, AdamW, schedules), `distribute`
  (tf.distribute strategies), `callbacks` (checkpoints, metric logs, dev
  evaluation), `plots` (every plot the project draws);
- `data/`: pretraining data creation (`creation`), input pipelines with
  length bucketing (`pipelines`), readers of standard and shipped data sets
  (`readers`) and data configs (`sources`);
- `tasks/`: one module per task (data -> tf.data, loss, metrics, scoring)
  and the registry `training.tasks.TASKS`;
- `loops/`: `pretrain`, `finetune`, `evaluate`, which run tasks and back
  the `albert-tf` commands of the same names.

Modules are imported on demand; this package imports nothing by itself.
"""
