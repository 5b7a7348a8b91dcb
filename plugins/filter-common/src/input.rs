//! The file an admin uploaded, before any format reads it: refused when it is
//! too large (before a byte is parsed) or not UTF-8, and positions in it as
//! the 1-based line and column every error and warning carries.

use mailroom_plugin_sdk::filter_importer::ImportError;

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// An import error, at a position when there is one.
pub fn error(message: impl Into<String>, at: Option<Position>) -> ImportError {
    ImportError {
        message: message.into(),
        line: at.map(|a| a.line),
        column: at.map(|a| a.column),
    }
}

/// The position of byte `offset` in `text` (clamped to the text, and moved
/// back to a character boundary).
pub fn line_column(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// Positions of many offsets in one text, in time linear in the text for
/// offsets visited in order: line starts are found once, and the column is
/// counted on from the last position asked for when it lies on the same
/// line before the offset. (Calling [`line_column`] for each of thousands of
/// warnings in a large file would cost the square of its size.)
pub struct Positions<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    last: std::cell::Cell<(usize, Position)>,
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Positions {
            text,
            line_starts,
            last: std::cell::Cell::new((0, Position { line: 1, column: 1 })),
        }
    }

    /// The position of byte `offset` (clamped, moved back to a character boundary).
    pub fn at(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line.saturating_sub(1)];
        let (last_offset, last) = self.last.get();
        let (from, column) = if last_offset >= line_start && last_offset <= offset {
            (last_offset, last.column as usize)
        } else {
            (line_start, 1)
        };
        let column = column + self.text[from..offset].chars().count();
        let position = Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        };
        self.last.set((offset, position));
        position
    }
}

/// `e` with a hint when `data` looks like another format than `this` (the
/// format id of the importer that refused it): an admin who picked the wrong
/// format learns which one to pick.
pub fn hint(mut e: ImportError, data: &[u8], this: &str) -> ImportError {
    if let Ok(format) = filter_detect::detect(data)
        && format.id() != this
    {
        e.message = format!(
            "{} (this looks like {}: import it as `{}`)",
            e.message,
            format.name(),
            format.id()
        );
    }
    e
}

/// `data` as text: refused when larger than `max_bytes` (`what` names the
/// format, e.g. "a Sieve script") or not UTF-8 (with the position of the
/// first bad byte); a leading byte-order mark is dropped.
pub fn text<'a>(data: &'a [u8], max_bytes: usize, what: &str) -> Result<&'a str, ImportError> {
    if data.len() > max_bytes {
        return Err(error(
            format!(
                "the file is {} bytes; {what} may be at most {max_bytes} bytes ({} MiB). \
                 Split it, or remove what is not needed",
                data.len(),
                max_bytes / (1024 * 1024)
            ),
            None,
        ));
    }
    let text = std::str::from_utf8(data).map_err(|e| {
        let valid = std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or("");
        error(
            format!(
                "the file is not UTF-8 text (byte {} is not): {what} is text; \
                 is this the right file?",
                e.valid_up_to() + 1
            ),
            Some(line_column(valid, valid.len())),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_column(t, 0), Position { line: 1, column: 1 });
        assert_eq!(line_column(t, 3), Position { line: 2, column: 1 });
        assert_eq!(line_column(t, 7), Position { line: 2, column: 4 });
        // Inside `é` (bytes 5..7): moved back to its start.
        assert_eq!(line_column(t, 6), Position { line: 2, column: 3 });
        assert_eq!(line_column(t, 999), Position { line: 3, column: 2 });
    }

    #[test]
    fn positions_in_any_order_agree_with_line_column() {
        let t = "ab\ncdé\n\nfgh\n";
        let positions = Positions::new(t);
        for offset in [0, 1, 3, 7, 6, 2, 9, 12, 10, 14, 99, 0, 5] {
            assert_eq!(
                positions.at(offset),
                line_column(t, offset),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_file_of_another_format_gets_a_hint() {
        let e = hint(error("no", None), b"require \"fileinto\";", "gmail-xml");
        assert_eq!(
            e.message,
            "no (this looks like a Sieve script: import it as `sieve`)"
        );
        let e = hint(error("no", None), b"require \"fileinto\";", "sieve");
        assert_eq!(e.message, "no");
        let e = hint(error("no", None), b"hello", "sieve");
        assert_eq!(e.message, "no");
    }

    #[test]
    fn too_large_and_not_text_are_refused_with_why() {
        let big = vec![b'a'; 11];
        let e = text(&big, 10, "a test file").unwrap_err();
        assert!(e.message.contains("11 bytes"), "{}", e.message);
        let e = text(b"ok\n\xff\xfe", 100, "a test file").unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
        assert_eq!(text("\u{feff}x".as_bytes(), 10, "t").unwrap(), "x");
    }
}
