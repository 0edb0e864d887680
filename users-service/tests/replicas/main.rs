//! users-service as several replicas: real processes of the released binary on one
//! database (three on PostgreSQL when `TEST_DATABASE_URL` is set, two on one SQLite file
//! otherwise), real HTTP, and the keys commands run as an operator runs them.
//!
//! Nothing here moves a clock: the replicas are separate processes. What the tests wait
//! for is another process's doing (a replica reloading its keys, a rotated key's
//! activation one second after the rotation), polled with a deadline.

// A failed expectation in a test helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod failover;
mod lockouts;
mod rotation;
mod startup;
