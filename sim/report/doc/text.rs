//! Numbers and phrases of the report's running text: a value with its interval, a paired
//! difference, a horizon, a constraint, a setting, hours; and the escaping of strings the
//! scenario provides (names, questions, descriptions, sources), so that they read as
//! typed in `report.md` instead of being taken for Markdown or HTML.

pub(super) use super::super::charts::business::sig2;
use super::super::charts::input::{ConstraintMeta, Results, Stat};
use super::super::charts::style::{fmt_num, fmt_signed, metric_name, metric_unit, short_path};

/// "41.3 (95% CI 39.8 to 42.9)".
pub(super) fn with_ci(s: &Stat) -> String {
    if s.ci_low.is_finite() && s.ci_high.is_finite() {
        format!(
            "{} (95% CI {} to {})",
            fmt_num(s.mean),
            fmt_num(s.ci_low),
            fmt_num(s.ci_high)
        )
    } else {
        fmt_num(s.mean)
    }
}

/// "41.3 ± 1.6": the mean and the half-width of its 95% CI, both to the precision the
/// half-width warrants (two significant digits of it), so the columns read evenly.
pub(super) fn plus_minus(s: &Stat) -> String {
    if !(s.ci_low.is_finite() && s.ci_high.is_finite()) {
        return fmt_num(s.mean);
    }
    let hw = (s.ci_high - s.ci_low) / 2.0;
    if hw >= 10.0 || hw <= 0.0 {
        return format!("{} ± {}", fmt_num(s.mean.round()), fmt_num(hw.round()));
    }
    // Two decimals at most: a table of ± 0.0019 reads as noise, and a value that small
    // is zero for a decision.
    let d = (1 - hw.log10().floor() as i32).clamp(0, 2) as usize;
    let (m, h) = (format!("{:.d$}", s.mean), format!("{:.d$}", hw));
    let zero = |t: &str| {
        t.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
    };
    if zero(&m) && zero(&h) {
        return "0".to_string();
    }
    format!("{m} ± {h}")
}

/// "+12.1 (95% CI 10.2 to 14.0)" for a paired difference, if the row has one; "same in
/// every run" when the two arms never differed at all.
pub(super) fn diff_text(s: &Stat) -> Option<String> {
    let d = s.diff_mean.filter(|d| d.is_finite())?;
    if d == 0.0 && s.diff_low.unwrap_or(0.0) == 0.0 && s.diff_high.unwrap_or(0.0) == 0.0 {
        return Some("same in every run".to_string());
    }
    Some(match (s.diff_low, s.diff_high) {
        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => {
            format!(
                "{} (95% CI {} to {})",
                fmt_signed(d),
                fmt_signed(lo),
                fmt_signed(hi)
            )
        }
        _ => fmt_signed(d),
    })
}

/// A horizon as people say it: "90d" or "25w 5d" → "180 days"; anything that is not a
/// whole number of days, as written.
pub(super) fn horizon_text(h: &str) -> String {
    const DAY_S: u64 = 86_400;
    match humantime::parse_duration(h.trim()) {
        Ok(d) if d.as_secs() % DAY_S == 0 && d.subsec_nanos() == 0 && d.as_secs() > 0 => {
            match d.as_secs() / DAY_S {
                1 => "1 day".to_string(),
                n => format!("{n} days"),
            }
        }
        _ => h.to_string(),
    }
}

/// "user impact per run at most 600 user-impact minutes", or, for a bound relative to an
/// arm, "user impact per run at most that of **senior-signoff** (same seeds)".
pub(super) fn constraint_text(c: &ConstraintMeta) -> String {
    let what = format!(
        "{} {}",
        metric_name(&c.metric).to_lowercase(),
        if c.at_most { "at most" } else { "at least" }
    );
    match &c.arm {
        Some(a) => format!("{what} that of **{}** (same seeds)", md(a)),
        None => format!("{what} {}{}", fmt_num(c.value), unit_suffix(&c.metric)),
    }
}

/// Whether `metric` is a total over one run (so it scales with the horizon and is also
/// given per year), as opposed to a rate, a share or a per-incident figure.
pub(super) fn per_run_metric(metric: &str) -> bool {
    matches!(
        metric,
        "tasks_started"
            | "changes_proposed"
            | "changes_deployed"
            | "changes_rejected"
            | "changes_refused"
            | "changes_abandoned"
            | "escalations"
            | "reviews_done"
            | "reviews_rushed"
            | "auto_approved"
            | "blocks_true"
            | "blocks_false"
            | "block_delay_h_total"
            | "guard_blocks"
            | "guard_escalations"
            | "rate_limited"
            | "breaker_trips"
            | "breaker_open_h"
            | "freezes"
            | "freeze_h"
            | "kill_switch_h"
            | "incidents"
            | "incidents_agent"
            | "environment_deletions"
            | "user_impact_min_total"
            | "invariant_violations"
            | "violations_max_users_hit_by_one_change"
            | "violations_max_outage"
            | "violations_max_user_impact_minutes"
    )
}

/// "5.2 (4.1 to 6.3)" to two significant figures.
pub(super) fn sig2_ci(mean: f64, low: f64, high: f64) -> String {
    if low.is_finite() && high.is_finite() && low != high {
        format!("{} ({} to {})", sig2(mean), sig2(low), sig2(high))
    } else {
        sig2(mean)
    }
}

/// " hours" after a number of `metric`, or nothing for counts and shares.
pub(super) fn unit_suffix(metric: &str) -> String {
    match metric_unit(metric).as_str() {
        "" | "count" | "share" => String::new(),
        // A metric without a label of its own shows its column name as the unit.
        u if u == metric => String::new(),
        u => format!(" {u}"),
    }
}

/// `arm`, or `arm at a=1` naming only the swept parameters that change this arm's
/// results (an arm that does not use a swept breaker is the same at every setting).
pub(super) fn setting(r: &Results, arm: usize, point: usize) -> String {
    if r.points.len() < 2 {
        return format!("**{}**", md(&r.arms[arm]));
    }
    let axes = r.axes_of_arm(arm);
    let Some(p) = r.points.iter().find(|p| p.index == point) else {
        return format!("**{}**", md(&r.arms[arm]));
    };
    if axes.is_empty() {
        return format!(
            "**{}** (the swept parameters do not affect this arm)",
            md(&r.arms[arm])
        );
    }
    let parts: Vec<String> = axes
        .iter()
        .filter_map(|&k| {
            Some(format!(
                "{}={}",
                short_path(&r.axes()[k].path),
                p.values.get(k)?
            ))
        })
        .collect();
    format!("**{}** at {}", md(&r.arms[arm]), code(&parts.join(", ")))
}

/// The risk metric in a few words, for running text: "user impact".
pub(super) fn short_risk(metric: &str) -> String {
    match metric {
        "user_impact_min_total" => "user impact".to_string(),
        m => metric_name(m).to_lowercase(),
    }
}

/// Hours as people say them: "25 minutes" below an hour, else "4.59 hours".
pub(super) fn hours_text(h: f64) -> String {
    if h < 1.0 {
        let m = (h * 60.0).round().max(0.0) as i64;
        if m == 1 {
            "1 minute".to_string()
        } else {
            format!("{m} minutes")
        }
    } else if h >= 48.0 {
        format!("{} hours ({} days)", fmt_num(h), fmt_num(h / 24.0))
    } else {
        format!("{} hours", fmt_num(h))
    }
}

pub(super) fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `text` with every character that could start Markdown markup or inline HTML
/// backslash-escaped, for running text and table cells: a scenario's strings are shown as
/// typed. Characters that are markup only in a position (a `<` not followed by a letter, `/`,
/// `!` or `?`; a `&` not followed by a letter or `#`) are left alone, so ordinary prose
/// ("recovery < 1 day", "<= 10%") reads unchanged in the source too.
pub(super) fn md(text: &str) -> String {
    escape(text, true)
}

/// `md`, except that backticks are kept: for texts the tool writes with code spans in them
/// (an arm's generated description, "policy `peer-review`").
pub(super) fn md_keeping_code(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, backticks: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut line_start = true;
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let escaped = match c {
            '\\' | '*' | '[' | ']' | '|' => true,
            // An underscore inside a word never delimits emphasis (`max_users` reads as is).
            '_' => !(word(prev) && word(next)),
            '`' => backticks,
            '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')),
            '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
            '#' | '>' | '-' | '+' => line_start,
            _ => false,
        };
        if c == '\n' || c == '\r' {
            // A string of one line stays one line: a newline would end a list item or a
            // table row.
            out.push(' ');
            line_start = false;
            prev = Some(' ');
            continue;
        }
        if escaped {
            out.push('\\');
        }
        out.push(c);
        line_start = false;
        prev = Some(c);
    }
    out
}

/// `text` as an inline code span, fenced with one backtick more than its longest run of
/// backticks (and padded when it starts or ends with one), so no content closes it early.
pub(super) fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod escape_tests {
    use super::{code, md, md_keeping_code};

    #[test]
    fn scenario_strings_are_escaped_for_markdown() {
        assert_eq!(md("a *b* [c](d) `e` | f"), r"a \*b\* \[c\](d) \`e\` \| f");
        assert_eq!(md("<script>x</script>"), r"\<script>x\</script>");
        assert_eq!(md("# title\nnext"), r"\# title next");
        assert_eq!(md("_em_ max_users"), r"\_em\_ max_users");
        assert_eq!(md("&amp; & 1"), r"\&amp; & 1");
        // Prose stays as typed.
        let prose = "recovery < 1 day, one-box <= 10%, ~65% (50-85%)";
        assert_eq!(md(prose), prose);
        assert_eq!(
            md_keeping_code("policy `peer-review`, *no*"),
            r"policy `peer-review`, \*no\*"
        );
    }

    #[test]
    fn code_spans_outfence_their_backticks() {
        assert_eq!(code("smoke"), "`smoke`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
