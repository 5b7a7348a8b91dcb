//! What a meeting request says besides its start ([`crate::when`]): how
//! long ("30 minutes", "a 45-minute interview", "one hour", "from 9:00 to
//! 12:00") and where (a call link, else the platform named, else a room).
//! English wording; the first match in the text wins.

/// The meeting's length and place, as far as the text says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    pub duration_minutes: Option<u32>,
    pub location: Option<String>,
}

pub fn details(text: &str) -> Details {
    Details {
        duration_minutes: duration_minutes(text),
        location: location(text),
    }
}

/// Hosts of video-call links.
const CALL_HOSTS: &[&str] = &[
    "zoom.us/",
    "teams.microsoft.com/",
    "teams.live.com/",
    "meet.google.com/",
    "webex.com/",
    "whereby.com/",
    "gotomeeting.com/",
    "meet.jit.si/",
];

/// Platforms named without a link: (lower-case word or phrase, name).
const PLATFORMS: &[(&str, &str)] = &[
    ("google meet", "Google Meet"),
    ("microsoft teams", "Microsoft Teams"),
    ("ms teams", "Microsoft Teams"),
    ("teams", "Microsoft Teams"),
    ("zoom", "Zoom"),
    ("webex", "Webex"),
    ("skype", "Skype"),
];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("a", 1),
    ("an", 1),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("ten", 10),
    ("fifteen", 15),
    ("twenty", 20),
    ("thirty", 30),
    ("forty-five", 45),
    ("ninety", 90),
];

fn number(word: &str) -> Option<u32> {
    word.parse().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, n)| *n)
    })
}

/// Lower-case words, splitting at anything but letters, digits, `:` and
/// `-` inside a word ("45-minute" stays one word, then splits below).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == ':' || c == '-'))
        .flat_map(|w| {
            // "45-minute" → "45", "minute"; "forty-five" stays.
            match w.split_once('-') {
                Some((n, unit)) if n.parse::<u32>().is_ok() => {
                    vec![n.to_string(), unit.to_string()]
                }
                _ => vec![w.to_string()],
            }
        })
        .map(|w| w.trim_matches(['-', ':']).to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

fn clock_minutes(word: &str) -> Option<u32> {
    let (h, m) = word.split_once(':')?;
    if m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Minutes from "N minutes/min", "N hours", "half an hour", or a span
/// "from 9:00 to 12:00" / "9:00-12:00"; between 5 minutes and 12 hours.
pub fn duration_minutes(text: &str) -> Option<u32> {
    // A clock span: "9:00-12:00" arrives as one word with `-`.
    for w in text.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_ascii_digit());
        if let Some((a, b)) = w.split_once(['-', '–'])
            && let (Some(a), Some(b)) = (clock_minutes(a), clock_minutes(b))
            && b > a
        {
            return Some(b - a);
        }
    }
    let words = words(text);
    for (k, w) in words.iter().enumerate() {
        let next = words.get(k + 1).map_or("", String::as_str);
        if w == "half" && next == "an" && words.get(k + 2).is_some_and(|h| h == "hour") {
            return Some(30);
        }
        // "from 9:00 to 12:00", "9:00 until 12:00".
        if let Some(start) = clock_minutes(w)
            && matches!(next, "to" | "until" | "till")
            && let Some(end) = words.get(k + 2).and_then(|e| clock_minutes(e))
            && end > start
        {
            return Some(end - start);
        }
        let Some(n) = number(w) else {
            continue;
        };
        let minutes = match next {
            "minute" | "minutes" | "min" | "mins" => n,
            "hour" | "hours" | "hr" | "hrs" => n * 60,
            _ => continue,
        };
        if (5..=12 * 60).contains(&minutes) {
            return Some(minutes);
        }
    }
    None
}

/// A call link, else the platform named, else "room …" with its name.
pub fn location(text: &str) -> Option<String> {
    for w in text.split_whitespace() {
        let w = w.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | '.' | '"'));
        if w.starts_with("https://") && CALL_HOSTS.iter().any(|h| w.contains(h)) {
            return Some(w.to_string());
        }
    }
    let lower = format!(" {} ", words(text).join(" "));
    for (phrase, name) in PLATFORMS {
        if lower.contains(&format!(" {phrase} ")) {
            return Some((*name).to_string());
        }
    }
    // "in room 3", "meeting room B", "room Isar": keep the writer's case.
    let original: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '(' | ')' | '?' | '!'))
        .filter(|w| !w.is_empty())
        .collect();
    for (k, w) in original.iter().enumerate() {
        if w.eq_ignore_ascii_case("room")
            && let Some(name) = original.get(k + 1)
            && (name.chars().all(|c| c.is_ascii_digit())
                || name.chars().next().is_some_and(char::is_uppercase))
        {
            let meeting = k > 0 && original[k - 1].eq_ignore_ascii_case("meeting");
            let start = if meeting { k - 1 } else { k };
            return Some(original[start..=k + 1].join(" "));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_minutes("30 minutes on Teams"), Some(30));
        assert_eq!(duration_minutes("a 45-minute interview"), Some(45));
        assert_eq!(duration_minutes("Please plan for 90 minutes."), Some(90));
        assert_eq!(duration_minutes("one hour should be enough"), Some(60));
        assert_eq!(duration_minutes("about two hours"), Some(120));
        assert_eq!(duration_minutes("quick 15 min sync"), Some(15));
        assert_eq!(duration_minutes("half an hour"), Some(30));
        assert_eq!(duration_minutes("from 9:00 to 12:00 works"), Some(180));
        assert_eq!(
            duration_minutes("Thursday 4 February, 09:00-12:00"),
            Some(180)
        );
        assert_eq!(duration_minutes("shipped 3 pallets at 10:00"), None);
        assert_eq!(duration_minutes("two weeks ago"), None);
    }

    #[test]
    fn places() {
        assert_eq!(
            location("on Zoom: https://zoom.us/j/84512339012."),
            Some("https://zoom.us/j/84512339012".to_string())
        );
        assert_eq!(
            location("30 minutes on Teams"),
            Some("Microsoft Teams".to_string())
        );
        assert_eq!(
            location("I created a Google Meet for us"),
            Some("Google Meet".to_string())
        );
        assert_eq!(
            location("at plant 2 (meeting room B)?"),
            Some("meeting room B".to_string())
        );
        assert_eq!(location("in room 3, one hour"), Some("room 3".to_string()));
        assert_eq!(location("the room was cold"), None);
    }
}
