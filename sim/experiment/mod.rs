//! experiment (under construction).
