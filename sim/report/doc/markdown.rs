//! The document model of the report and its Markdown: `report.md` is this text, and
//! `report.html` is rendered from it (see `html`).

use std::fmt::Write as _;

/// One piece of the document.
pub(super) enum Block {
    /// The title.
    H1(String),
    /// A section heading.
    H2(String),
    /// A paragraph; `**bold**` and `` `code` `` are the only markup.
    P(String),
    /// A bulleted list, each item with a paragraph's markup.
    List(Vec<String>),
    /// A table: the first column left-aligned, the rest right-aligned.
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A chart: `<name>.svg` with a link to `<name>.png` (the HTML inlines the SVG).
    Figure { name: String, caption: String },
    /// A shell snippet.
    Code(String),
}

/// The Markdown of `blocks`: what `report.md` holds.
pub(super) fn to_markdown(blocks: &[Block]) -> String {
    let mut s = String::new();
    for b in blocks {
        match b {
            Block::H1(t) => {
                let _ = writeln!(s, "# {t}\n");
            }
            Block::H2(t) => {
                let _ = writeln!(s, "## {t}\n");
            }
            Block::P(t) => {
                let _ = writeln!(s, "{t}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(s, "- {i}");
                }
                s.push('\n');
            }
            Block::Table { head, rows } => {
                let cell = |c: &str| c.replace('|', "\\|");
                let _ = writeln!(
                    s,
                    "| {} |",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(
                    s,
                    "|{}",
                    head.iter()
                        .enumerate()
                        .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                        .collect::<String>()
                );
                for row in rows {
                    let _ = writeln!(
                        s,
                        "| {} |",
                        row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                s.push('\n');
            }
            Block::Figure { name, caption, .. } => {
                let _ = writeln!(
                    s,
                    "![{caption}]({name}.svg)\n\n*{caption}.* ([PNG]({name}.png))\n"
                );
            }
            Block::Code(t) => {
                let _ = writeln!(s, "```sh\n{t}\n```\n");
            }
        }
    }
    s
}
