//! Automated breakers at execution time, each a pure state machine the world consults.
