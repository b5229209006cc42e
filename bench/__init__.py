"""Side-by-side benchmarks; `python -m bench.run` runs them all and writes docs/BENCHMARKS.md."""
