"""Tests of the repository as a whole: its README and docs, benchmarks, notebook and this suite."""
