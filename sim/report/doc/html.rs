//! `report.html`: the report's Markdown rendered by pulldown-cmark (with tables), in a page
//! with inline CSS, and every chart inlined as SVG where the Markdown links its file, so
//! the page needs no other file.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

use super::super::charts::Charts;

const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1.2em;\
color:#1a1a1a;line-height:1.5}h1{font-size:1.7em;line-height:1.25}h2{margin-top:2em;border-bottom:1px solid #ccc;\
padding-bottom:.2em}table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;\
padding:.35em .6em;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left;font-weight:bold}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;border:1px solid #e5e5e5}figcaption{color:#555;font-size:.92em}\
pre{background:#f5f5f5;padding:.8em;overflow-x:auto}code{background:#f5f5f5;padding:0 .2em}";

/// The page for the report's Markdown `md`, titled `title`.
pub(super) fn to_html(title: &str, md: &str, charts: &Charts) -> String {
    let events: Vec<Event> = Parser::new_ext(md, Options::ENABLE_TABLES).collect();
    let mut body = String::new();
    html::push_html(&mut body, inline_figures(events, charts).into_iter());
    let mut title_html = String::new();
    html::push_html(&mut title_html, std::iter::once(Event::Text(title.into())));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title_html}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

/// Replaces each figure of the Markdown (a paragraph holding only the image `<name>.svg`,
/// then the caption paragraph `*caption.* ([PNG](<name>.png))`) with a `<figure>` holding
/// the SVG itself and the caption.
fn inline_figures<'a>(events: Vec<Event<'a>>, charts: &Charts) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        match figure_at(&events, i, charts) {
            Some((html, next)) => {
                out.push(Event::Html(CowStr::from(html)));
                i = next;
            }
            None => {
                out.push(events[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// The `<figure>` of the figure starting at `events[i]`, and the index after it.
fn figure_at(events: &[Event], i: usize, charts: &Charts) -> Option<(String, usize)> {
    let (Event::Start(Tag::Paragraph), Event::Start(Tag::Image { dest_url, .. })) =
        (events.get(i)?, events.get(i + 1)?)
    else {
        return None;
    };
    let name = dest_url.strip_suffix(".svg")?;
    let chart = charts.get(name)?;
    let image_end = i + events[i..]
        .iter()
        .position(|e| *e == Event::End(TagEnd::Image))?;
    if events.get(image_end + 1) != Some(&Event::End(TagEnd::Paragraph)) {
        return None;
    }
    let mut next = image_end + 2;
    let mut caption = String::new();
    // The caption paragraph: its emphasis becomes the figcaption, the PNG link is dropped.
    if let (Some(Event::Start(Tag::Paragraph)), Some(Event::Start(Tag::Emphasis))) =
        (events.get(next), events.get(next + 1))
    {
        let em_end = next
            + events[next..]
                .iter()
                .position(|e| *e == Event::End(TagEnd::Emphasis))?;
        html::push_html(&mut caption, events[next + 2..em_end].iter().cloned());
        next += events[next..]
            .iter()
            .position(|e| *e == Event::End(TagEnd::Paragraph))?
            + 1;
    }
    // Inline the SVG itself (no external file), minus any XML prologue.
    let svg = &chart.svg;
    let svg = svg.find("<svg").map_or(svg.as_str(), |k| &svg[k..]);
    let html = format!(
        "<figure id=\"{name}\">\n{}\n<figcaption>{caption}</figcaption>\n</figure>\n",
        svg.trim_end()
    );
    Some((html, next))
}
