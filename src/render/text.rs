//! Text for people: data made safe for a terminal, wrapping by display width, box tables that fit a width, colour.
//!
//! Every human renderer (audit table and compact layout, explain, upgrade-check, the sync dry run, error
//! lines) passes values read from a database through [`display_safe`], so that a row cannot clear the
//! screen, retitle the window or hide text behind a carriage return, and a 64 KB name cannot flood the
//! terminal. JSON and Prometheus output never come here: they carry the exact bytes.

use std::borrow::Cow;
use std::fmt::Write as _;
use unicode_width::UnicodeWidthChar as _;

/// Characters that must never reach a terminal raw: C0, DEL and C1 controls (`char::is_control`), plus the
/// invisible formatting characters that reorder or hide text (bidi overrides and isolates, zero-width
/// characters, the Unicode line and paragraph separators).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// How an unsafe character is shown: `\n`, `\r`, `\t`, `\x1b` for the rest of C0 and DEL, `\u{9b}` for C1
/// and above (as the sync script's comments show them).
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Columns a character takes on a terminal (wide CJK 2, combining marks 0).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Columns a (safe) string takes on a terminal.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` escaped so that no control character survives, and shortened to at most `max` columns with a
/// visible marker (`…[+N chars]`, N counting the characters left out) when it is longer.
///
/// This is the one function every human renderer uses for data; `usize::MAX` escapes without shortening.
pub fn display_safe(s: &str, max: usize) -> Cow<'_, str> {
    let escaped: Cow<'_, str> = if s.chars().any(is_unsafe) {
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            if is_unsafe(c) {
                push_escaped(&mut out, c);
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    };
    if max == usize::MAX || width(&escaped) <= max {
        return escaped;
    }
    let total = escaped.chars().count();
    let marker = |left: usize| format!("…[+{left} chars]");
    // The marker for the whole length is the longest it can be, so the budget never overflows.
    let longest = width(&marker(total));
    let (budget, short_marker) = if max > longest {
        (max - longest, false)
    } else {
        (max.saturating_sub(1), true)
    };
    let mut kept = String::new();
    let mut used = 0;
    let mut n = 0;
    for c in escaped.chars() {
        let w = char_width(c);
        if used + w > budget {
            break;
        }
        used += w;
        n += 1;
        kept.push(c);
    }
    if max == 0 {
        return Cow::Owned(String::new());
    }
    if short_marker {
        kept.push('…');
    } else {
        kept.push_str(&marker(total - n));
    }
    Cow::Owned(kept)
}

/// [`display_safe`] for text that is ours and may hold line breaks (each line is escaped on its own).
pub fn safe_lines(s: &str, max: usize) -> String {
    s.split('\n')
        .map(|l| display_safe(l, max))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Longest a value is shown in a table's key column (names, hosts, uuids).
pub const KEY_MAX: usize = 64;
/// Longest a message, impact or error is shown before it is shortened.
pub const TEXT_MAX: usize = 2000;

/// Word-wraps each line of `text` to `width` columns; a word longer than a line is cut, so no line is
/// ever wider than `width`. Explicit line breaks are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let mut cur = String::new();
        let mut cur_w = 0;
        for word in line.split(' ') {
            let ww = self::width(word);
            if cur_w > 0 && cur_w + 1 + ww > width {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            if cur_w > 0 {
                cur.push(' ');
                cur_w += 1;
            }
            for c in word.chars() {
                let w = char_width(c);
                if cur_w + w > width && cur_w > 0 {
                    out.push(std::mem::take(&mut cur));
                    cur_w = 0;
                }
                cur.push(c);
                cur_w += w;
            }
        }
        out.push(cur);
    }
    out
}

/// [`wrap`] with every line after the first (and the first too) indented by `indent` spaces.
pub fn wrap_indented(text: &str, width: usize, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    wrap(text, width.saturating_sub(indent).max(1))
        .into_iter()
        .map(|l| format!("{pad}{l}"))
        .collect()
}

/// ANSI colours used by the renderers (SGR codes); painting never changes a line's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Plain,
    Failure,
    Warning,
    Info,
    Ok,
    Muted,
    Bold,
    Removed,
    Added,
}

impl Paint {
    fn sgr(self) -> &'static str {
        match self {
            Paint::Plain => "",
            Paint::Failure => "1;31",
            Paint::Warning => "1;33",
            Paint::Info => "36",
            Paint::Ok => "32",
            Paint::Muted => "2",
            Paint::Bold => "1",
            Paint::Removed => "31",
            Paint::Added => "32",
        }
    }

    /// `s` in this colour when `on`; `s` unchanged otherwise.
    pub fn paint(self, s: &str, on: bool) -> String {
        if !on || self == Paint::Plain || s.is_empty() {
            s.to_string()
        } else {
            format!("\x1b[{}m{s}\x1b[0m", self.sgr())
        }
    }
}

/// Colours one rendered line of a cell; given the plain line, returns it painted (same width).
pub type Painter = fn(&str, bool) -> String;

/// Diff lines as the table renders them: `- parent: ...` red, `+ cell: ...` green, and in the `diff:`
/// line the `[-removed-]` and `{+added+}` parts.
pub fn paint_diff_line(line: &str, on: bool) -> String {
    if !on {
        return line.to_string();
    }
    if line.starts_with("- parent: ") {
        return Paint::Removed.paint(line, on);
    }
    if line.starts_with("+ ") {
        return Paint::Added.paint(line, on);
    }
    if line.starts_with("Impact: ") {
        return format!("{}{}", Paint::Bold.paint("Impact:", on), &line[7..]);
    }
    if !line.contains("[-") && !line.contains("{+") {
        return line.to_string();
    }
    let mut out = String::new();
    let mut rest = line;
    while !rest.is_empty() {
        let next = [("[-", "-]", Paint::Removed), ("{+", "+}", Paint::Added)]
            .into_iter()
            .filter_map(|(open, close, p)| rest.find(open).map(|i| (i, open, close, p)))
            .min_by_key(|t| t.0);
        let Some((i, open, close, p)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        let after = &rest[i + open.len()..];
        let end = after.find(close).map(|j| i + open.len() + j + close.len());
        let end = end.unwrap_or(rest.len());
        out.push_str(&p.paint(&rest[i..end], on));
        rest = &rest[end..];
    }
    out
}

/// One table cell: its (already safe) text, which may hold line breaks, and how to colour it.
pub struct Cell {
    pub text: String,
    pub painter: Option<Painter>,
    pub paint: Paint,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            painter: None,
            paint: Paint::Plain,
        }
    }

    pub fn painted(text: impl Into<String>, paint: Paint) -> Cell {
        Cell {
            text: text.into(),
            painter: None,
            paint,
        }
    }

    pub fn with_painter(text: impl Into<String>, painter: Painter) -> Cell {
        Cell {
            text: text.into(),
            painter: Some(painter),
            paint: Paint::Plain,
        }
    }
}

/// A box table (the `┌─┬─┐` style) whose wrappable columns shrink to fit a width.
pub struct Table {
    rows: Vec<Vec<Cell>>,
    /// Per column: the narrowest it may be wrapped to, or `None` when it must never wrap.
    wrap_min: Vec<Option<usize>>,
}

impl Table {
    pub fn new(head: &[&str]) -> Table {
        Table {
            rows: vec![head.iter().map(|h| Cell::plain(*h)).collect()],
            wrap_min: vec![None; head.len()],
        }
    }

    pub fn from_head(head: Vec<Cell>) -> Table {
        let n = head.len();
        Table {
            rows: vec![head],
            wrap_min: vec![None; n],
        }
    }

    /// Lets column `col` wrap down to `min` columns when the table is too wide.
    pub fn wrap_column(mut self, col: usize, min: usize) -> Table {
        if let Some(w) = self.wrap_min.get_mut(col) {
            *w = Some(min.max(1));
        }
        self
    }

    /// Lets every column wrap (down to `min`), for tables with no key column to protect.
    pub fn wrap_all(mut self, min: usize) -> Table {
        for w in &mut self.wrap_min {
            *w = Some(min.max(1));
        }
        self
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Each column's natural width: its widest line.
    fn natural(&self) -> Vec<usize> {
        let n = self.wrap_min.len();
        let mut w = vec![0; n];
        for row in &self.rows {
            for (i, c) in row.iter().enumerate().take(n) {
                for l in c.text.split('\n') {
                    w[i] = w[i].max(width(l));
                }
            }
        }
        w
    }

    /// Width of the whole table with these column widths (borders and one space of padding each side).
    pub fn total(widths: &[usize]) -> usize {
        widths.iter().sum::<usize>() + 3 * widths.len() + 1
    }

    /// The column widths that fit `max`, or `None` when even the narrowest allowed layout is wider.
    pub fn fit(&self, max: Option<usize>) -> Option<Vec<usize>> {
        let mut w = self.natural();
        let Some(max) = max else { return Some(w) };
        while Self::total(&w) > max {
            // Shrink the widest column that may still shrink, a column at a time.
            let pick = (0..w.len())
                .filter(|&i| self.wrap_min[i].is_some_and(|m| w[i] > m))
                .max_by_key(|&i| w[i])?;
            w[pick] -= 1;
        }
        Some(w)
    }

    /// Renders with the widths of [`Table::fit`]; `None` when the table cannot fit `max`.
    pub fn render(&self, max: Option<usize>, color: bool) -> Option<String> {
        let widths = self.fit(max)?;
        Some(self.render_with(&widths, color))
    }

    /// Renders, and when nothing fits lets every column wrap; when even that is too wide (a tiny
    /// terminal, many columns), one block per row instead (see [`Table::records`]).
    pub fn render_anyway(self, max: Option<usize>, color: bool) -> String {
        if let Some(s) = self.render(max, color) {
            return s;
        }
        let t = self.wrap_all(3);
        match t.render(max, color) {
            Some(s) => s,
            None => t.records(max.unwrap_or(80), color),
        }
    }

    /// The rows as blocks: the first column's header and value as a line, then `  header: value`
    /// for every other column, wrapped to `max`; rows separated by a blank line.
    pub fn records(&self, max: usize, color: bool) -> String {
        let head: Vec<&str> = self.rows[0].iter().map(|c| c.text.as_str()).collect();
        let mut out = String::new();
        for (n, row) in self.rows.iter().skip(1).enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let first = format!(
                "{}: {}",
                head.first().copied().unwrap_or(""),
                row.first()
                    .map(|c| c.text.replace('\n', ", "))
                    .unwrap_or_default()
            );
            for l in wrap(&first, max) {
                let _ = writeln!(out, "{}", Paint::Bold.paint(&l, color));
            }
            for (h, c) in head.iter().zip(row).skip(1) {
                let text = format!("{h}: {}", c.text.replace('\n', ", "));
                for (i, l) in wrap(&text, max.saturating_sub(4).max(1)).iter().enumerate() {
                    let shown = match c.painter {
                        Some(p) => p(l, color),
                        None => c.paint.paint(l, color),
                    };
                    let _ = writeln!(out, "{}{shown}", if i == 0 { "  " } else { "    " });
                }
            }
        }
        out.trim_end().to_string()
    }

    fn rule(widths: &[usize], left: char, mid: char, right: char) -> String {
        let mut s = String::new();
        s.push(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                s.push(mid);
            }
            s.push_str(&"─".repeat(w + 2));
        }
        s.push(right);
        s
    }

    pub fn render_with(&self, widths: &[usize], color: bool) -> String {
        let mut out = String::new();
        out.push_str(&Self::rule(widths, '┌', '┬', '┐'));
        out.push('\n');
        for (r, row) in self.rows.iter().enumerate() {
            let cells: Vec<Vec<String>> = widths
                .iter()
                .enumerate()
                .map(|(i, &w)| match row.get(i) {
                    Some(c) => wrap(&c.text, w),
                    None => vec![String::new()],
                })
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            for line in 0..height {
                out.push('│');
                for (i, &w) in widths.iter().enumerate() {
                    let text = cells[i].get(line).map(String::as_str).unwrap_or("");
                    let pad = w.saturating_sub(width(text));
                    let shown = match row.get(i) {
                        Some(Cell {
                            painter: Some(p), ..
                        }) => p(text, color),
                        Some(c) => c.paint.paint(text, color),
                        None => text.to_string(),
                    };
                    let _ = write!(out, " {shown}{} │", " ".repeat(pad));
                }
                out.push('\n');
            }
            if r == 0 && self.rows.len() > 1 {
                out.push_str(&Self::rule(widths, '├', '┼', '┤'));
                out.push('\n');
            }
        }
        out.push_str(&Self::rule(widths, '└', '┴', '┘'));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(display_safe("a\x1b[2Jb", 100), "a\\x1b[2Jb");
        assert_eq!(display_safe("x\ny\rz\tw\0", 100), "x\\ny\\rz\\tw\\x00");
        assert_eq!(
            display_safe("\x7f\u{9b}\u{202e}", 100),
            "\\x7f\\u{9b}\\u{202e}"
        );
        assert_eq!(display_safe("plain — ok", 100), "plain — ok");
        assert!(matches!(display_safe("plain", 100), Cow::Borrowed(_)));
    }

    #[test]
    fn long_values_are_shortened_with_a_marker() {
        let s = "n".repeat(65536);
        let shown = display_safe(&s, 64);
        assert_eq!(width(&shown), 64);
        assert!(shown.ends_with(" chars]"), "{shown}");
        let left: usize = shown
            .trim_end_matches(" chars]")
            .rsplit("…[+")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            left + shown.chars().take_while(|&c| c == 'n').count(),
            65536
        );
        assert_eq!(display_safe(&s, 3), "nn…");
        assert_eq!(display_safe(&s, 0), "");
        assert_eq!(display_safe(&s, usize::MAX).len(), 65536);
    }

    #[test]
    fn wrap_never_exceeds_the_width() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
    }

    #[test]
    fn tables_shrink_their_wrappable_column() {
        let mut t = Table::new(&["key", "text"]).wrap_column(1, 10);
        t.push(vec![Cell::plain("k1"), Cell::plain("word ".repeat(30))]);
        let s = t.render(Some(40), false).unwrap();
        assert!(s.lines().all(|l| width(l) <= 40), "{s}");
        assert!(s.lines().any(|l| width(l) == 40), "{s}");
        let mut t = Table::new(&["key", "text"]).wrap_column(1, 30);
        t.push(vec![Cell::plain("k".repeat(30)), Cell::plain("x")]);
        assert!(t.render(Some(40), false).is_none());
    }

    #[test]
    fn the_sharp_style_is_kept() {
        let mut t = Table::new(&["cell", "state"]);
        t.push(vec![Cell::plain("child2"), Cell::plain("absent")]);
        assert_eq!(
            t.render(None, false).unwrap(),
            "┌────────┬────────┐\n│ cell   │ state  │\n├────────┼────────┤\n│ child2 │ absent │\n└────────┴────────┘"
        );
    }

    #[test]
    fn colour_codes_do_not_count_towards_width() {
        let mut t = Table::new(&["severity"]);
        t.push(vec![Cell::painted("FAILURE", Paint::Failure)]);
        let s = t.render(None, true).unwrap();
        assert!(s.contains("\x1b[1;31mFAILURE\x1b[0m  │"), "{s}");
    }

    #[test]
    fn diff_lines_are_coloured_by_part() {
        let s = paint_diff_line("  diff: az-[-e-]{+E+}ast", true);
        assert_eq!(s, "  diff: az-\x1b[31m[-e-]\x1b[0m\x1b[32m{+E+}\x1b[0mast");
        assert_eq!(
            paint_diff_line("  diff: az-[-e-]", false),
            "  diff: az-[-e-]"
        );
    }
}

/// Randomized properties (seeded, so a failure reproduces; `CELLAUDIT_PROP_CASES` runs more cases).
#[cfg(test)]
mod props {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*: small, deterministic, good enough to spread cases.
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Characters a hostile row may hold: every C0 control, DEL, C1, bidi and zero-width characters,
    /// wide and combining characters, markup, spaces and plain letters.
    fn any_char(r: &mut Rng) -> char {
        const SPECIAL: &[char] = &[
            '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}', '\u{200b}', '\u{200e}', '\u{2028}', '\u{202e}',
            '\u{2066}', '\u{feff}', '漢', '🦀', '\u{301}', '<', '&', '"', '\'', '\\', ' ', ' ',
            '—',
        ];
        match r.below(4) {
            0 => char::from_u32(r.below(0x20) as u32).unwrap(),
            1 => SPECIAL[r.below(SPECIAL.len())],
            _ => (b'a' + r.below(26) as u8) as char,
        }
    }

    fn any_string(r: &mut Rng, max_len: usize) -> String {
        let n = r.below(max_len + 1);
        (0..n).map(|_| any_char(r)).collect()
    }

    fn cases() -> usize {
        std::env::var("CELLAUDIT_PROP_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000)
    }

    #[test]
    fn display_safe_leaves_no_control_character_and_bounds_the_width() {
        let mut r = Rng(0x5EED_0001);
        for _ in 0..cases() {
            let s = any_string(&mut r, 300);
            let max = r.below(120);
            let shown = display_safe(&s, max);
            assert!(!shown.chars().any(is_unsafe), "{s:?} -> {shown:?}");
            assert!(width(&shown) <= max, "{s:?} at {max} -> {shown:?}");
            if !s.chars().any(is_unsafe) && width(&s) <= max {
                assert_eq!(shown, s);
            }
            let unbounded = display_safe(&s, usize::MAX);
            assert!(!unbounded.chars().any(is_unsafe));
        }
    }

    #[test]
    fn wrap_bounds_every_line_and_keeps_every_character() {
        let mut r = Rng(0x5EED_0002);
        for _ in 0..cases() {
            let s = display_safe(&any_string(&mut r, 300), usize::MAX).into_owned();
            let w = 1 + r.below(100);
            let lines = wrap(&s, w);
            for l in &lines {
                // A lone wide character in a 1-column line is the only overflow possible.
                assert!(width(l) <= w.max(2), "{l:?} wider than {w}");
            }
            let kept: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let orig: String = s.chars().filter(|c| *c != ' ').collect();
            assert_eq!(kept, orig);
        }
    }

    #[test]
    fn tables_never_exceed_the_width() {
        let mut r = Rng(0x5EED_0003);
        for _ in 0..cases() / 10 {
            let cols = 1 + r.below(5);
            let head: Vec<String> = (0..cols).map(|_| any_string(&mut r, 12)).collect();
            let head: Vec<Cell> = head
                .iter()
                .map(|h| Cell::plain(display_safe(h, 20)))
                .collect();
            let mut t = Table::from_head(head).wrap_column(cols - 1, 5);
            for _ in 0..r.below(6) {
                t.push(
                    (0..cols)
                        .map(|_| Cell::plain(display_safe(&any_string(&mut r, 80), 40)))
                        .collect(),
                );
            }
            let w = 20 + r.below(200);
            let s = t.render_anyway(Some(w), r.below(2) == 0);
            let plain: String = {
                let mut out = String::new();
                let mut skip = false;
                for c in s.chars() {
                    match (skip, c) {
                        (_, '\x1b') => skip = true,
                        (true, 'm') => skip = false,
                        (true, _) => {}
                        (false, c) => out.push(c),
                    }
                }
                out
            };
            for l in plain.lines() {
                assert!(width(l) <= w, "{w}: {l}");
            }
        }
    }
}
