//! Named random streams derived from one master seed.
//!
//! Derivation (documented because results depend on it):
//! `key = splitmix64(seed ^ splitmix64(kind))`, the generator is
//! `ChaCha8Rng::seed_from_u64(key)` with `set_stream(entity)`. ChaCha8 is a named, portable
//! algorithm (unlike `StdRng`), and each `(kind, entity)` pair gets its own stream, so
//! adding an entity or a purpose never shifts the draws of another. That is what gives
//! policy arms common random numbers.

use rand::SeedableRng;
pub use rand::rngs::ChaCha8Rng;

/// The generator every stream uses.
pub type StreamRng = ChaCha8Rng;

/// SplitMix64 finaliser: a bijective 64-bit mix used to derive stream keys.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The master seed of one run, from which every stream is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seed(pub u64);

impl Seed {
    /// The stream for purpose `kind` and entity `entity`.
    ///
    /// `kind` is a constant chosen by the caller (the engine names no domain purpose).
    pub fn stream(self, kind: u64, entity: u64) -> StreamRng {
        let key = splitmix64(self.0 ^ splitmix64(kind));
        let mut rng = ChaCha8Rng::seed_from_u64(key);
        rng.set_stream(entity);
        rng
    }

    /// A child seed, for a sub-run (replication `index` of a sweep, say).
    pub fn derive(self, index: u64) -> Seed {
        Seed(splitmix64(self.0 ^ splitmix64(index.wrapping_add(0x5EED))))
    }
}
