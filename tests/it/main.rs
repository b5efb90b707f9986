//! The integration test binary: one module per area (one binary links faster than many).

mod report;
