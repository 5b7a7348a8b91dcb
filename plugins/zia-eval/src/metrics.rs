//! Metrics shared by the evaluations.
