//! Integration tests, one binary: run the `dfpar` binary on fixtures in tests/data and on
//! generated data, and check every result against a reference computed here, not by dfpar.

mod batch;
mod bench;
mod builtins;
mod common;
mod engine;
mod inputs;
mod python;
mod reliability;
mod shard;
mod user_functions;
