//! The one font every chart uses: DejaVu Sans from the `dejavu` crate, registered with
//! plotters' `ab_glyph` backend as "sans-serif" (normal and bold).
//!
//! plotters is built without `ttf`, so it never looks at system fonts; ab_glyph knows no
//! font at all until one is registered, and drawing text before that fails with
//! `FontUnavailable`. Registering is idempotent but takes a global lock, so it runs once.

use std::sync::OnceLock;

use plotters::style::FontStyle;

/// The family name every chart asks for.
pub const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (normal and bold) as [`FAMILY`]. Safe to call many times and from
/// many threads; only the first call does the work.
pub fn register() -> anyhow::Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = DONE.get_or_init(|| {
        let fonts = [
            (FontStyle::Normal, "regular", dejavu::sans::regular()),
            (FontStyle::Bold, "bold", dejavu::sans::bold()),
        ];
        for (style, what, bytes) in fonts {
            plotters::style::register_font(FAMILY, style, bytes)
                .map_err(|_| format!("the bundled DejaVu Sans font ({what}) did not load"))?;
        }
        Ok(())
    });
    result.clone().map_err(anyhow::Error::msg)
}
