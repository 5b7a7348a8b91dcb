//! A meeting's start, read from English text and resolved against the
//! message's Date header: "Wed 12 Nov 15:00 UTC", "tomorrow at 3",
//! "next Monday at 10am", "on 3 March at 9:30 CET". A day and a time of day
//! are both needed; the time zone is the one written, else the Date
//! header's. Civil-date arithmetic is Howard Hinnant's (days from
//! 1970-01-01, proleptic Gregorian).

/// When the message was written: the Date header as milliseconds since the
/// epoch and its UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub epoch_ms: i64,
    pub offset_minutes: i32,
}

/// A resolved start and the words it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct When {
    pub epoch_ms: i64,
    pub text: String,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const ZONES: &[(&str, i32)] = &[
    ("utc", 0),
    ("gmt", 0),
    ("z", 0),
    ("bst", 60),
    ("cet", 60),
    ("cest", 120),
    ("eet", 120),
    ("eest", 180),
    ("est", -300),
    ("edt", -240),
    ("cst", -360),
    ("cdt", -300),
    ("mst", -420),
    ("mdt", -360),
    ("pst", -480),
    ("pdt", -420),
];

/// The first meeting start in `text`, if it names a day and a time.
pub fn resolve(text: &str, reference: Reference) -> Option<When> {
    // ASCII text (most) needs no Unicode tables, and keeps its byte offsets.
    let lower = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    };
    let words: Vec<(usize, &str)> = word_spans(&lower);
    let local_now = reference.epoch_ms.div_euclid(60_000) + i64::from(reference.offset_minutes);
    let today = local_now.div_euclid(24 * 60);
    // Each sentence on its own: a day in one and a time in another are not
    // one appointment.
    let mut start = 0;
    while start < words.len() {
        let end = (start..words.len())
            .find(|&k| lower[words[k].0 + words[k].1.len()..].starts_with(['.', '!', '?', '\n']))
            .map_or(words.len(), |k| k + 1);
        let sentence = &words[start..end];
        if let Some((day, day_at)) = find_day(sentence, today)
            && let Some((minutes, zone, time_at)) = find_time(sentence)
        {
            let offset = zone.unwrap_or_else(|| offset_on(reference, today, day));
            let epoch_minutes = day * 24 * 60 + i64::from(minutes) - i64::from(offset);
            let from = day_at.min(time_at);
            let to = day_at.max(time_at);
            let (a, b) = (sentence[from].0, sentence[to].0 + sentence[to].1.len());
            return Some(When {
                epoch_ms: epoch_minutes * 60_000,
                text: text.get(a..b).unwrap_or("").to_string(),
            });
        }
        start = end;
    }
    None
}

/// Words (letters and digits, `:` inside times) with their byte offsets.
fn word_spans(lower: &str) -> Vec<(usize, &str)> {
    if lower.is_ascii() {
        return ascii_word_spans(lower);
    }
    spans(
        lower,
        lower
            .char_indices()
            .map(|(i, c)| (i, c.is_alphanumeric(), c == ':')),
    )
}

/// [`word_spans`] of ASCII text by byte tests (a byte is a character, and
/// its only letters and digits are ASCII ones).
fn ascii_word_spans(lower: &str) -> Vec<(usize, &str)> {
    spans(
        lower,
        lower
            .bytes()
            .enumerate()
            .map(|(i, b)| (i, b.is_ascii_alphanumeric(), b == b':')),
    )
}

/// The words of `lower` from its characters as `(offset, is a letter or
/// digit, is a colon)`: a colon inside a word (`15:00`) is kept, one at
/// its end is not.
fn spans(lower: &str, chars: impl Iterator<Item = (usize, bool, bool)>) -> Vec<(usize, &str)> {
    let mut out = Vec::with_capacity(lower.len() / 5);
    let mut start = None;
    for (i, alphanumeric, colon) in chars {
        let inside = alphanumeric || (colon && start.is_some());
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, lower[s..i].trim_end_matches(':')));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, lower[s..].trim_end_matches(':')));
    }
    out
}

fn month_of(word: &str) -> Option<u32> {
    let prefix = word.get(..3)?;
    let m = MONTHS.iter().position(|m| *m == prefix)?;
    // "march", "mar", "sept" but not "mark" or "decide".
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][m];
    (word.len() == 3 || full.starts_with(word) || word == "sept").then_some(m as u32 + 1)
}

fn weekday_of(word: &str) -> Option<i64> {
    let prefix = word.get(..3)?;
    let d = WEEKDAYS.iter().position(|d| *d == prefix)?;
    let full = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ][d];
    (word.len() == 3 || full.starts_with(word)).then_some(d as i64)
}

/// A day-of-month number: "12", "12th", "3rd".
fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// The day meant (days since the epoch) and the index of the word naming it.
fn find_day(words: &[(usize, &str)], today: i64) -> Option<(i64, usize)> {
    let (year, _, _) = civil_from_days(today);
    for (k, &(_, w)) in words.iter().enumerate() {
        // "12 Nov", "12th of November", "Nov 12", optional year after.
        if let Some(month) = month_of(w) {
            let before = k.checked_sub(1).and_then(|j| day_number(words[j].1));
            let before_of = k
                .checked_sub(2)
                .filter(|_| words[k - 1].1 == "of")
                .and_then(|j| day_number(words[j].1));
            let after = words.get(k + 1).and_then(|n| day_number(n.1));
            if let Some(day) = before.or(before_of).or(after) {
                let explicit_year = words
                    .get(k + 1 + usize::from(after.is_some()))
                    .and_then(|n| n.1.parse::<i64>().ok())
                    .filter(|y| (1970..=2200).contains(y));
                let mut date = days_from_civil(explicit_year.unwrap_or(year), month, day);
                // A date well in the past without a year means next year's.
                if explicit_year.is_none() && date < today - 60 {
                    date = days_from_civil(year + 1, month, day);
                }
                // The words the date is written in start at its day
                // number, or at a weekday just before it.
                let mut first = if before.is_some() {
                    k - 1
                } else if before_of.is_some() {
                    k - 2
                } else {
                    k
                };
                if first > 0 && weekday_of(words[first - 1].1).is_some() {
                    first -= 1;
                }
                return Some((date, first));
            }
        }
        match w {
            "today" => return Some((today, k)),
            "tomorrow" => return Some((today + 1, k)),
            _ => {}
        }
        if let Some(weekday) = weekday_of(w) {
            // A weekday next to a written date is the date's: handled above
            // when the date comes later in the sentence.
            if words[k + 1..]
                .iter()
                .take(3)
                .any(|n| month_of(n.1).is_some())
            {
                continue;
            }
            // "Friday next week", "next week on Friday": that weekday of
            // the coming Monday-to-Sunday week.
            let near = |j: usize| words.get(j).map_or("", |n| n.1);
            let next_week_after = near(k + 1) == "next" && near(k + 2) == "week";
            let next_week_before = k >= 2
                && (words[k - 2].1 == "next" && words[k - 1].1 == "week"
                    || k >= 3 && words[k - 3].1 == "next" && words[k - 2].1 == "week");
            if next_week_after || next_week_before {
                let monday_based = |sunday_based: i64| (sunday_based + 6).rem_euclid(7);
                let next_monday = today - monday_based((today + 4).rem_euclid(7)) + 7;
                return Some((next_monday + monday_based(weekday), k));
            }
            // The next such day after today ("next Thursday" said on a
            // Monday is this week's, as most writers mean it).
            let current = (today + 4).rem_euclid(7);
            let mut ahead = (weekday - current).rem_euclid(7);
            if ahead == 0 {
                ahead = 7;
            }
            return Some((today + ahead, k));
        }
    }
    None
}

/// The time of day in minutes, the zone written after it (minutes east of
/// UTC) and the index of its word.
fn find_time(words: &[(usize, &str)]) -> Option<(u32, Option<i32>, usize)> {
    for (k, &(_, w)) in words.iter().enumerate() {
        let next = words.get(k + 1).map_or("", |n| n.1);
        let (clock, meridiem_inline) = match w.find(['a', 'p']) {
            Some(i) if matches!(&w[i..], "am" | "pm") => (&w[..i], Some(&w[i..])),
            _ => (w, None),
        };
        let meridiem = meridiem_inline.or(match next {
            "am" | "pm" => Some(next),
            _ => None,
        });
        let (hour, minute) = match clock.split_once(':') {
            Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
            Some(_) => continue,
            None if clock == "noon" => (12, 0),
            None => {
                let Ok(h) = clock.parse::<u32>() else {
                    continue;
                };
                // A bare number is a time only with am/pm or after "at".
                let after_at = k > 0 && words[k - 1].1 == "at";
                if meridiem.is_none() && !after_at {
                    continue;
                }
                (h, 0)
            }
        };
        if hour > 23 || minute > 59 {
            continue;
        }
        let hour = match meridiem {
            Some("pm") if hour < 12 => hour + 12,
            Some("am") if hour == 12 => 0,
            Some(_) => hour,
            // "at 3" in business mail is the afternoon.
            None if !clock.contains(':') && (1..=7).contains(&hour) => hour + 12,
            None => hour,
        };
        let zone_word = if meridiem.is_some() && meridiem_inline.is_none() {
            words.get(k + 2).map_or("", |n| n.1)
        } else {
            next
        };
        let zone = ZONES.iter().find(|(z, _)| *z == zone_word).map(|(_, o)| *o);
        return Some((hour * 60 + minute, zone, k));
    }
    None
}

/// The sender's UTC offset on `day` when no zone is written: the Date
/// header's, moved by an hour when a daylight-saving change falls between
/// the day the mail was sent and `day`. Offsets +01:00 and +02:00 follow
/// the EU's calendar (last Sundays of March and October), −04:00 to
/// −08:00 the US's (second Sunday of March, first of November); other
/// offsets, UTC among them, stay as they are. Senders in those offsets
/// without daylight saving (West Africa, Colombia …) are read wrongly
/// across a change.
fn offset_on(reference: Reference, sent_day: i64, day: i64) -> i32 {
    let offset = reference.offset_minutes;
    let summer: fn(i64) -> bool = match offset {
        60 | 120 => eu_summer,
        -480..=-240 => us_summer,
        _ => return offset,
    };
    match (summer(sent_day), summer(day)) {
        (false, true) => offset + 60,
        (true, false) => offset - 60,
        _ => offset,
    }
}

/// The `nth` (1-based) Sunday of a month, or the last when `nth` is 0.
fn sunday_of(year: i64, month: u32, nth: u32) -> i64 {
    let weekday = |d: i64| (d + 4).rem_euclid(7);
    if nth == 0 {
        let next_first = if month == 12 {
            days_from_civil(year + 1, 1, 1)
        } else {
            days_from_civil(year, month + 1, 1)
        };
        let last = next_first - 1;
        return last - weekday(last);
    }
    let first = days_from_civil(year, month, 1);
    first + (7 - weekday(first)).rem_euclid(7) + 7 * i64::from(nth - 1)
}

fn eu_summer(day: i64) -> bool {
    let (year, _, _) = civil_from_days(day);
    (sunday_of(year, 3, 0)..sunday_of(year, 10, 0)).contains(&day)
}

fn us_summer(day: i64) -> bool {
    let (year, _, _) = civil_from_days(day);
    (sunday_of(year, 3, 2)..sunday_of(year, 11, 1)).contains(&day)
}

/// Days since 1970-01-01 of a civil date.
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Reads the UTC offset at the end of a Date header ("… +0100").
pub fn header_offset_minutes(date_header: &str) -> Option<i32> {
    let last = date_header
        .split_whitespace()
        .rev()
        .find(|w| w.len() == 5 && (w.starts_with('+') || w.starts_with('-')))?;
    let sign = if last.starts_with('-') { -1 } else { 1 };
    let hours: i32 = last[1..3].parse().ok()?;
    let minutes: i32 = last[3..5].parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 10 November 2025, 09:00 at UTC+01:00.
    const MONDAY: Reference = Reference {
        epoch_ms: (days_from_civil(2025, 11, 10) * 24 * 60 + 8 * 60) * 60_000,
        offset_minutes: 60,
    };

    fn utc(y: i64, m: u32, d: u32, h: i64, min: i64) -> i64 {
        (days_from_civil(y, m, d) * 24 * 60 + h * 60 + min) * 60_000
    }

    fn at(text: &str) -> Option<i64> {
        resolve(text, MONDAY).map(|w| w.epoch_ms)
    }

    #[test]
    fn calendar_round_trip() {
        assert_eq!(days_from_civil(2025, 11, 10), 20_402);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for day in [-800_000, -1, 0, 59, 60, 20_402, 1_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn explicit_dates_and_zones() {
        assert_eq!(
            at("Meeting Wed 12 Nov 15:00 UTC"),
            Some(utc(2025, 11, 12, 15, 0))
        );
        assert_eq!(
            at("Call on November 14th at 9:30 CET."),
            Some(utc(2025, 11, 14, 8, 30))
        );
        // Without a zone, the Date header's (+01:00).
        assert_eq!(
            at("Let's meet on 3 March 2026 at 2pm."),
            Some(utc(2026, 3, 3, 13, 0))
        );
        // Early in the year without a year: the coming one.
        assert_eq!(at("Kick-off 15 Jan at 10:00"), Some(utc(2026, 1, 15, 9, 0)));
    }

    #[test]
    fn relative_days() {
        assert_eq!(
            at("Can we talk tomorrow at 3?"),
            Some(utc(2025, 11, 11, 14, 0))
        );
        assert_eq!(
            at("How about next Monday at 10am?"),
            Some(utc(2025, 11, 17, 9, 0))
        );
        assert_eq!(
            at("Are you free on Thursday at 11:30?"),
            Some(utc(2025, 11, 13, 10, 30))
        );
        assert_eq!(at("today at noon works"), Some(utc(2025, 11, 10, 11, 0)));
    }

    #[test]
    fn weekday_next_week() {
        // Said on Monday 10 November 2025.
        assert_eq!(
            at("Could we meet on Friday next week at 14:00?"),
            Some(utc(2025, 11, 21, 13, 0))
        );
        assert_eq!(
            at("Next week on Monday at 9:30 then."),
            Some(utc(2025, 11, 17, 8, 30))
        );
        // Without "next week", this week's Friday.
        assert_eq!(at("Friday at 14:00?"), Some(utc(2025, 11, 14, 13, 0)));
    }

    #[test]
    fn daylight_saving_change_between_mail_and_meeting() {
        // Sent Friday 26 March 2027 at +01:00 (CET); 1 April is summer time.
        let march = Reference {
            epoch_ms: (days_from_civil(2027, 3, 26) * 24 * 60 + 12 * 60) * 60_000,
            offset_minutes: 60,
        };
        assert_eq!(
            resolve("Site visit on Thursday 1 April at 8:30?", march).map(|w| w.epoch_ms),
            Some(utc(2027, 4, 1, 6, 30))
        );
        // A written zone wins; UTC senders stay UTC.
        assert_eq!(
            resolve("Thursday 1 April at 8:30 CET", march).map(|w| w.epoch_ms),
            Some(utc(2027, 4, 1, 7, 30))
        );
        let utc_sender = Reference {
            offset_minutes: 0,
            ..march
        };
        assert_eq!(
            resolve("Thursday 1 April at 8:30", utc_sender).map(|w| w.epoch_ms),
            Some(utc(2027, 4, 1, 8, 30))
        );
        // US: sent in EST on 10 March 2027, the call after the 14 March change.
        let new_york = Reference {
            epoch_ms: (days_from_civil(2027, 3, 10) * 24 * 60 + 15 * 60) * 60_000,
            offset_minutes: -300,
        };
        assert_eq!(
            resolve("Call on 16 March at 9:00?", new_york).map(|w| w.epoch_ms),
            Some(utc(2027, 3, 16, 13, 0))
        );
        assert_eq!(sunday_of(2027, 3, 0), days_from_civil(2027, 3, 28));
        assert_eq!(sunday_of(2027, 11, 1), days_from_civil(2027, 11, 7));
    }

    #[test]
    fn needs_a_day_and_a_time_in_one_sentence() {
        assert_eq!(at("See you on Tuesday."), None);
        assert_eq!(at("The call is at 3pm. Tuesday is busy."), None);
        assert_eq!(at("We shipped 12 boxes at 40 each"), None);
        assert_eq!(at("Mark decided on 12 items"), None);
    }

    #[test]
    fn date_header_offset() {
        assert_eq!(
            header_offset_minutes("Mon, 10 Nov 2025 09:00:00 +0100"),
            Some(60)
        );
        assert_eq!(
            header_offset_minutes("Mon, 10 Nov 2025 09:00:00 -0530"),
            Some(-330)
        );
        assert_eq!(header_offset_minutes("garbage"), None);
    }
}
