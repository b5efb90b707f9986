//! chaos (under construction).
