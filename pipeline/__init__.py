"""The main job (`albert-tf demo`): the whole product, end to end, on a CPU.

Imports albert_tf, training and serving; nothing imports it.
"""
