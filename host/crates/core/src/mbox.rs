//! The mbox format as written by exports: RFC 4155's `From ` separator
//! lines, and the mboxrd quoting of body lines (`From `, `>From `, … get
//! one more `>`), so a reader that unquotes mboxrd gets each message's
//! bytes back exactly and a plain mbox reader never splits a message at a
//! body line. Messages keep their bytes (CRLF included); each ends with a
//! line break and is followed by one empty line.

use mail_parser::DateTime;

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The `From ` line of a message: the envelope sender (`MAILER-DAEMON`
/// when unknown or unusable) and the time in UTC, in `asctime` form
/// (`Mon Nov  3 09:00:00 2025`), as RFC 4155 describes.
pub fn from_line(sender: Option<&str>, at_ms: i64) -> String {
    let sender = sender
        .filter(|s| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
        .unwrap_or("MAILER-DAEMON");
    let t = DateTime::from_timestamp(at_ms.div_euclid(1000));
    let day = DAYS.get(usize::from(t.day_of_week())).unwrap_or(&"Sun");
    let month = MONTHS
        .get(usize::from(t.month.saturating_sub(1)))
        .unwrap_or(&"Jan");
    format!(
        "From {sender} {day} {month} {:>2} {:02}:{:02}:{:02} {}\n",
        t.day, t.hour, t.minute, t.second, t.year
    )
}

/// Whether a line must gain a `>`: it is `From ` behind zero or more `>`.
fn needs_quoting(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    line[quotes..].starts_with(b"From ")
}

/// One message as an mbox entry: its `From ` line, its bytes with
/// mboxrd quoting, a final line break if it had none, and the empty line
/// that separates it from the next.
pub fn entry(sender: Option<&str>, at_ms: i64, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 50 + 64);
    out.extend_from_slice(from_line(sender, at_ms).as_bytes());
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if needs_quoting(line) {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    if !raw.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_from_line_is_rfc_4155s() {
        // 2025-11-03 09:00:00 UTC, a Monday.
        assert_eq!(
            from_line(Some("tom@brightwave.example"), 1_762_160_400_000),
            "From tom@brightwave.example Mon Nov  3 09:00:00 2025\n"
        );
        assert_eq!(
            from_line(Some("two words@x"), 0),
            "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"
        );
        assert_eq!(
            from_line(None, 1_767_225_599_000),
            "From MAILER-DAEMON Wed Dec 31 23:59:59 2025\n"
        );
    }

    #[test]
    fn from_lines_in_bodies_are_quoted_one_level_more() {
        let raw = b"Subject: x\r\n\r\nFrom here on\r\n>From there\r\n>>From far\r\nFrom\r\n From no\r\nend";
        let got = entry(Some("a@b"), 0, raw);
        let body = String::from_utf8(got).expect("utf-8");
        assert_eq!(
            body,
            "From a@b Thu Jan  1 00:00:00 1970\nSubject: x\r\n\r\n>From here on\r\n>>From there\r\n\
             >>>From far\r\nFrom\r\n From no\r\nend\n\n"
        );
    }
}
