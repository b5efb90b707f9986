//! Where service graphs come from: generators, importers and shipped presets.
