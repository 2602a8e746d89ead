//! End-to-end scenarios across Cunjie's crates. One test binary; one module per scenario.

mod demo;
mod device;
mod fieldday;
mod load;
mod network;
mod offline_week;
mod photos;
mod reliability_r1;
mod reliability_r2;
mod reliability_r3;
mod reliability_r4;
mod reliability_r5;
mod reliability_r8;
mod review;
