//! How a database column compares text: names that its collation treats as equal are one name to the
//! database (its unique keys reject the second), whatever their bytes.
//!
//! Nova's MySQL tables are `utf8(mb3)_general_ci` (nova/db/main/models.py and nova/db/api/models.py
//! declare `mysql_charset='utf8'`; the server's default collation for it is `utf8mb3_general_ci`):
//! case-insensitive, and — like every collation that is not `NO PAD` — blind to trailing spaces
//! (`PAD SPACE`). SQLite columns without a `COLLATE` clause (all of Nova's) compare bytes exactly.
//!
//! The key computed here is an approximation of the server's weights that errs on the side of
//! "equal" only for case and trailing spaces; it does not fold accents (`general_ci` also treats
//! `'é'` as `'E'`). Sync therefore still lets the database itself re-check by name at apply time.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collation {
    /// Bytes compared exactly (SQLite, MySQL `*_nopad_bin`, `binary`).
    #[default]
    Exact,
    /// Exact except trailing spaces (MySQL `*_bin` collations, which pad).
    PadSpace,
    /// Case-insensitive, trailing spaces ignored (`utf8mb3_general_ci`, `utf8mb4_unicode_ci`, ...).
    CaseInsensitivePadSpace,
    /// Case-insensitive, trailing spaces significant (`*_nopad_ci`, MySQL 8's `*_0900_ai_ci`).
    CaseInsensitive,
}

impl Collation {
    /// From `information_schema.COLUMNS.COLLATION_NAME`; `None` (SQLite, or no collation) is exact.
    pub fn from_name(name: Option<&str>) -> Collation {
        let Some(n) = name.map(str::to_ascii_lowercase) else {
            return Collation::Exact;
        };
        // MySQL 8's UCA 9.0.0 collations (`_0900_`) and MariaDB's `_nopad_` ones are NO PAD.
        let pad = !(n.contains("nopad") || n.contains("_0900_"));
        let ci = n.ends_with("_ci");
        match (ci, pad) {
            (true, true) => Collation::CaseInsensitivePadSpace,
            (true, false) => Collation::CaseInsensitive,
            (false, true) if n != "binary" => Collation::PadSpace,
            _ => Collation::Exact,
        }
    }

    /// The text two values share exactly when this collation calls them equal (see the module note).
    pub fn key<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let padded = |s: &'a str| s.trim_end_matches(' ');
        match self {
            Collation::Exact => Cow::Borrowed(s),
            Collation::PadSpace => Cow::Borrowed(padded(s)),
            Collation::CaseInsensitivePadSpace => Cow::Owned(fold(padded(s))),
            Collation::CaseInsensitive => Cow::Owned(fold(s)),
        }
    }

    /// What this collation does not tell apart, for messages.
    pub fn ignores(&self) -> &'static str {
        match self {
            Collation::Exact => "nothing",
            Collation::PadSpace => "trailing spaces",
            Collation::CaseInsensitivePadSpace => "case and trailing spaces",
            Collation::CaseInsensitive => "case",
        }
    }

    /// Whether the two are one value to the database but different strings to Python.
    pub fn equal_but_not_identical(&self, a: &str, b: &str) -> bool {
        a != b && self.key(a) == self.key(b)
    }
}

fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_ci_ignores_case_and_trailing_spaces() {
        let c = Collation::from_name(Some("utf8mb3_general_ci"));
        assert_eq!(c, Collation::CaseInsensitivePadSpace);
        assert_eq!(c.key("SSD-AGG"), c.key("ssd-agg "));
        assert_ne!(c.key(" ssd-agg"), c.key("ssd-agg"));
        assert!(c.equal_but_not_identical("SSD-AGG", "ssd-agg"));
        assert!(!c.equal_but_not_identical("ssd-agg", "ssd-agg"));
    }

    #[test]
    fn sqlite_and_binary_collations_compare_bytes() {
        for c in [
            Collation::from_name(None),
            Collation::from_name(Some("binary")),
        ] {
            assert_ne!(c.key("SSD-AGG"), c.key("ssd-agg"));
            assert_ne!(c.key("a "), c.key("a"));
        }
        let bin = Collation::from_name(Some("utf8mb3_bin"));
        assert_eq!(bin.key("a "), bin.key("a"));
        assert_ne!(bin.key("A"), bin.key("a"));
        let nopad = Collation::from_name(Some("utf8mb4_0900_ai_ci"));
        assert_eq!(nopad.key("A"), nopad.key("a"));
        assert_ne!(nopad.key("a "), nopad.key("a"));
    }
}
