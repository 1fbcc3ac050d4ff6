//! Sections of `BENCHMARKS.md` that `report` does not compute but keeps: each written by its
//! own command or by hand between two markers, and carried over when the rest is regenerated.

/// A kept section: its opening and closing markers (HTML comments, invisible when rendered).
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// Opens the section.
    pub begin: &'static str,
    /// Closes the section.
    pub end: &'static str,
}

/// The parser comparison, written by `parse-peers --write`.
pub const PARSE: Section = Section { begin: "<!-- parse-peers:begin -->", end: "<!-- parse-peers:end -->" };

/// What bounds each missed target: profiles taken with `scripts/profile-bench` and read by
/// hand, so they say what was measured at which commit.
pub const PROFILES: Section = Section { begin: "<!-- profiles:begin -->", end: "<!-- profiles:end -->" };

/// Every kept section, in the order they are appended to a document that lacks them.
pub const KEPT: [Section; 2] = [PROFILES, PARSE];

impl Section {
    /// The section of `doc`, markers included, if it has one.
    pub fn extract<'a>(&self, doc: &'a str) -> Option<&'a str> {
        let start = doc.find(self.begin)?;
        let end = doc[start..].find(self.end)? + start + self.end.len();
        Some(&doc[start..end])
    }

    /// `doc` with its section replaced by `section` (markers included), or `section` appended.
    pub fn splice(&self, doc: &str, section: &str) -> String {
        match (doc.find(self.begin), doc.find(self.end)) {
            (Some(start), Some(end)) if end > start => {
                format!("{}{section}{}", &doc[..start], &doc[end + self.end.len()..])
            }
            _ => format!("{}\n{section}\n", doc.trim_end()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_or_appended_and_survives_extraction() {
        let s = format!("{}\nnew\n{}", PARSE.begin, PARSE.end);
        let appended = PARSE.splice("# Doc\n", &s);
        assert_eq!(appended, format!("# Doc\n{s}\n"));
        let replaced = PARSE.splice(&format!("a\n{}\nold\n{}\nb\n", PARSE.begin, PARSE.end), &s);
        assert_eq!(replaced, format!("a\n{s}\nb\n"));
        assert_eq!(PARSE.extract(&replaced), Some(s.as_str()));
        assert_eq!(PARSE.extract("none"), None);
    }

    #[test]
    fn sections_are_kept_apart() {
        let profiles = format!("{}\np\n{}", PROFILES.begin, PROFILES.end);
        let parse = format!("{}\nq\n{}", PARSE.begin, PARSE.end);
        let doc = PARSE.splice(&PROFILES.splice("# Doc\n", &profiles), &parse);
        assert_eq!(doc, format!("# Doc\n{profiles}\n{parse}\n"));
        assert_eq!(PROFILES.extract(&doc), Some(profiles.as_str()));
        assert_eq!(PARSE.extract(&doc), Some(parse.as_str()));
    }
}
