//! Shared workloads of the Litmus benchmarks.
