//! The parts of a message FETCH can ask for.
//!
//! ```text
//! section      = "[" [section-spec] "]"
//! section-spec = section-msgtext / (section-part ["." section-text])
//! section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//! section-part = nz-number *("." nz-number)
//! section-text = section-msgtext / "MIME"
//! ```

/// What follows the part numbers of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// The whole part (or message).
    Whole,
    /// `HEADER`
    Header,
    /// `HEADER.FIELDS (names)`, or `HEADER.FIELDS.NOT` with `not`.
    HeaderFields {
        /// `.NOT`
        not: bool,
        /// Field names as given (compared case-insensitively).
        names: Vec<String>,
    },
    /// `TEXT`
    Text,
    /// `MIME` (only after part numbers).
    Mime,
}

/// A section: part numbers (empty = the message itself) and what of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Part numbers, 1-based.
    pub part: Vec<u32>,
    /// What of the part.
    pub text: SectionText,
}

impl Section {
    /// The whole message: `BODY[]`.
    pub fn full() -> Section {
        Section {
            part: Vec::new(),
            text: SectionText::Whole,
        }
    }

    /// The section as it is echoed in a FETCH response (`1.2.HEADER.FIELDS (A B)`).
    pub fn echo(&self) -> String {
        let mut s: Vec<String> = self.part.iter().map(|n| n.to_string()).collect();
        match &self.text {
            SectionText::Whole => {}
            SectionText::Header => s.push("HEADER".into()),
            SectionText::Text => s.push("TEXT".into()),
            SectionText::Mime => s.push("MIME".into()),
            SectionText::HeaderFields { not, names } => s.push(format!(
                "HEADER.FIELDS{} ({})",
                if *not { ".NOT" } else { "" },
                names
                    .iter()
                    .map(|n| n.to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        }
        s.join(".")
    }
}
