"""The benchmark suite: bench/run.py is its entry point (see its docstring and README "Benchmarks")."""
