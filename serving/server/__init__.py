"""Development server speaking TF Serving's gRPC and REST APIs over a model directory.

It serves any SavedModel (tf.saved_model.load + tensorflow_text), in TF
Serving's layout `<base_path>/<int version>/`, with its version policies,
labels, hot version swaps, optional batching and Prometheus metrics. It is
for development and tests on machines without Docker; production runs the
tensorflow/serving image (serving/docker, serving/k8s). May import
albert_tf.export; never albert_tf models, never training.
"""
