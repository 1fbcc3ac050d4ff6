//! The parser section of `BENCHMARKS.md`: written by `parse-peers --write`, kept by `report`.

/// Opens the section.
pub const BEGIN: &str = "<!-- parse-peers:begin -->";
/// Closes the section.
pub const END: &str = "<!-- parse-peers:end -->";

/// The section of `doc`, markers included, if it has one.
pub fn extract(doc: &str) -> Option<&str> {
    let start = doc.find(BEGIN)?;
    let end = doc[start..].find(END)? + start + END.len();
    Some(&doc[start..end])
}

/// `doc` with its section replaced by `section` (markers included), or `section` appended.
pub fn splice(doc: &str, section: &str) -> String {
    match (doc.find(BEGIN), doc.find(END)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{section}{}", &doc[..start], &doc[end + END.len()..])
        }
        _ => format!("{}\n{section}\n", doc.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_or_appended_and_survives_extraction() {
        let s = format!("{BEGIN}\nnew\n{END}");
        let appended = splice("# Doc\n", &s);
        assert_eq!(appended, format!("# Doc\n{s}\n"));
        let replaced = splice(&format!("a\n{BEGIN}\nold\n{END}\nb\n"), &s);
        assert_eq!(replaced, format!("a\n{s}\nb\n"));
        assert_eq!(extract(&replaced), Some(s.as_str()));
        assert_eq!(extract("none"), None);
    }
}
