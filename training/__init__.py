"""Training: pretraining data, input pipelines, optimizers, strategies, fit loops.

Imports albert_tf (never serving). Modules are imported on demand; this
package imports nothing heavy by itself.
"""
