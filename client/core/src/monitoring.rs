//! Remote patient monitoring, off-chain: device readings as FHIR Observations, a seeded
//! simulator, and device-signed batches of readings under one claims-tree root
//! (`docs/monitoring-readings.md`).

pub mod batch;
pub mod reading;
pub mod simulate;
