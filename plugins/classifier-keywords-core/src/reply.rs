//! The sender's own text: the one reply/forward splitter every analysis
//! reads through (sentiment, intent, summary and the signature card).
//!
//! A reply or forward carries someone else's message; what its sender wrote
//! is what remains after removing
//! - the quoted or forwarded message: from the first reply header that
//!   follows the sender's text (`On … wrote:` and its German, French,
//!   Spanish, Portuguese, Dutch, Italian, Swedish and Russian forms; an
//!   Outlook `From:`/`Sent:`/`To:`/`Subject:` block in those languages, with
//!   or without an address; `-----Original Message-----`, Gmail's and
//!   Apple's forward markers, Lotus Notes' `Forwarded by …` and
//!   `"Name" <addr> on DATE` headers) to the end;
//! - a reply header with nothing of the sender's above it (bottom-posting,
//!   as Thunderbird users do), and `>`-quoted lines anywhere;
//! - mobile footers ("Sent from my iPhone" and its translations) and legal
//!   disclaimers.
//!
//! The splitter works line by line on borrowed slices; [`OwnText::lines`]
//! are lines of the input.

/// What [`own_text`] kept, and why the rest went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnText<'a> {
    /// The sender's lines, in order, trailing white space removed.
    pub lines: Vec<&'a str>,
    /// The message quotes or forwards another one.
    pub quotes_other: bool,
}

/// Splits `body` into the sender's own lines.
pub fn own_text(body: &str) -> OwnText<'_> {
    let all: Vec<&str> = body.lines().map(str::trim_end).collect();
    let mut own = OwnText::default();
    let mut has_text = false;
    let mut i = 0;
    while i < all.len() {
        let trimmed = all[i].trim();
        if let Some(header) = reply_header_at(&all, i) {
            own.quotes_other = true;
            // An attribution above the sender's text with a `>` quote under
            // it is bottom-posting: skip it, the quote is skipped below.
            // Anything else above the quoted message ends the sender's text.
            let next = all[i + header.lines..]
                .iter()
                .find(|l| !l.trim().is_empty());
            let quote_follows = next.is_some_and(|l| l.trim_start().starts_with('>'));
            if has_text || !header.attribution || !quote_follows {
                break;
            }
            i += header.lines;
            continue;
        }
        if trimmed.starts_with('>') {
            own.quotes_other = true;
            i += 1;
            continue;
        }
        if is_mobile_footer(trimmed) {
            i += 1;
            continue;
        }
        if has_text && is_disclaimer(trimmed) {
            break;
        }
        // Blank lines before the sender's first words carry nothing.
        if has_text || !trimmed.is_empty() {
            own.lines.push(all[i]);
        }
        has_text |= !trimmed.is_empty();
        i += 1;
    }
    while own.lines.last().is_some_and(|l| l.trim().is_empty()) {
        own.lines.pop();
    }
    own
}

/// A reply or forward header found by [`reply_header_at`].
struct Header {
    lines: usize,
    /// "On … wrote:" rather than a separator or a header block.
    attribution: bool,
}

/// The reply or forward header starting at line `i`, if one does.
fn reply_header_at(lines: &[&str], i: usize) -> Option<Header> {
    let line = lines[i].trim();
    if line.is_empty() {
        return None;
    }
    let lower = line.to_lowercase();
    let attribution = |lines| {
        Some(Header {
            lines,
            attribution: true,
        })
    };
    if is_attribution(&lower) {
        return attribution(1);
    }
    // A long attribution wrapped by the client: "On Mon, … Ann Lee <" then
    // "ann@x.org> wrote:".
    if let Some(next) = lines.get(i + 1)
        && ATTRIBUTION_OPENERS.iter().any(|o| lower.starts_with(o))
        && is_attribution(&format!("{lower} {}", next.trim().to_lowercase()))
    {
        return attribution(2);
    }
    let other =
        is_separator(&lower) || header_block_at(lines, i) || lotus_header_at(lines, i, &lower);
    other.then_some(Header {
        lines: 1,
        attribution: false,
    })
}

/// `-----Original Message-----`, forward markers and the long rule Outlook
/// puts above its header block.
fn is_separator(lower: &str) -> bool {
    const MARKERS: &[&str] = &[
        "original message",
        "ursprüngliche nachricht",
        "message d'origine",
        "message d’origine",
        "mensaje original",
        "mensagem original",
        "oorspronkelijk bericht",
        "messaggio originale",
        "исходное сообщение",
        "ursprungligt meddelande",
        "forwarded message",
        "weitergeleitete nachricht",
        "message transféré",
        "mensaje reenviado",
        "mensagem encaminhada",
        "doorgestuurd bericht",
        "messaggio inoltrato",
        "пересылаемое сообщение",
        "forwarded by",
    ];
    let dashed = lower.starts_with("---") || lower.starts_with("___") || lower.starts_with("***");
    if dashed && MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    // Outlook's rule: a line of underscores alone.
    if lower.len() >= 20 && lower.bytes().all(|b| b == b'_') {
        return true;
    }
    const FORWARD_LINES: &[&str] = &[
        "begin forwarded message:",
        "anfang der weitergeleiteten nachricht:",
        "début du message réexpédié :",
        "début du message réexpédié:",
        "inicio del mensaje reenviado:",
        "início da mensagem reencaminhada:",
        "begin doorgestuurd bericht:",
        "inizio messaggio inoltrato:",
        "начало переадресованного сообщения:",
    ];
    FORWARD_LINES.contains(&lower)
}

/// How attributions open, per language: "On", "Am", "Le", "El", "Em", "Op",
/// "Il", "Den", "Dne".
const ATTRIBUTION_OPENERS: &[&str] = &[
    "on ", "am ", "le ", "el ", "em ", "op ", "il ", "den ", "dne ",
];

/// "On Tue, 3 Jun 2025 at 10:00, Ann <ann@x.org> wrote:" in the languages
/// mail clients write it in.
fn is_attribution(lower: &str) -> bool {
    // (opener, ending); an empty opener accepts any start (Russian clients
    // put the date first: "3 июня 2025 г., в 10:00, Анна <a@x.ru> написал(а):").
    const FORMS: &[(&str, &str)] = &[
        ("on ", "wrote:"),
        ("on ", "writes:"),
        ("am ", "schrieb:"),
        ("am ", "geschrieben:"),
        ("le ", "a écrit :"),
        ("le ", "a écrit:"),
        ("el ", "escribió:"),
        ("el ", "escribio:"),
        ("em ", "escreveu:"),
        ("op ", "geschreven:"),
        ("op ", "schreef:"),
        ("il ", "ha scritto:"),
        ("den ", "skrev:"),
        ("", "написал(а):"),
        ("", "написал:"),
        ("", "написала:"),
        ("", "пишет:"),
    ];
    // Every form below ends in a colon: most lines are ruled out at once.
    if !lower.ends_with(':') || lower.chars().count() > 300 {
        return false;
    }
    // "10.11.2025, 12:34, "Иван" <ivan@x.ru>:" (Yandex), "…, 12:34 от Иван
    // <ivan@x.ru>:" (Mail.ru): a dated line ending in the quoted writer's
    // address.
    if lower.ends_with(">:") && lower.contains('@') && lower.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    FORMS.iter().any(|(opener, ending)| {
        lower.starts_with(opener)
            && lower.ends_with(ending)
            && (!opener.is_empty() || lower.bytes().any(|b| b.is_ascii_digit()))
    })
}

/// Field names of the header block a client writes above a quoted or
/// forwarded message, per role, in the languages above (Outlook's labels,
/// Gmail's forward block, Apple Mail's).
const FROM_KEYS: &[&str] = &["from", "von", "de", "van", "da", "от", "från"];
const DATE_KEYS: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "date d'envoi",
    "enviado",
    "enviado el",
    "enviada em",
    "fecha",
    "data",
    "verzonden",
    "verzonden op",
    "inviato",
    "отправлено",
    "дата",
    "skickat",
];
const TO_KEYS: &[&str] = &[
    "to",
    "an",
    "à",
    "a",
    "para",
    "aan",
    "кому",
    "till",
    "cc",
    "kopie",
    "копия",
];
const SUBJECT_KEYS: &[&str] = &[
    "subject",
    "betreff",
    "objet",
    "asunto",
    "assunto",
    "onderwerp",
    "oggetto",
    "тема",
    "ämne",
];

/// The field name of a header line (`From: …`, `*Von:* …`, `De : …`),
/// lower case, if the line has that shape.
fn field_name(line: &str) -> Option<String> {
    let line = line.trim().trim_start_matches(['*', '>']).trim_start();
    let (key, _) = line.split_once(':')?;
    let key = key.trim_end_matches('*').trim();
    if key.is_empty() || key.chars().count() > 16 || key.contains(['<', '@', '"']) {
        return None;
    }
    Some(key.to_lowercase())
}

/// A `From:` line followed, within the next five lines, by at least two of
/// date, recipients and subject: the header of the quoted or forwarded
/// message, whether or not it shows an address (Outlook often shows only
/// the name).
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let Some(key) = field_name(lines[i]) else {
        return false;
    };
    if !FROM_KEYS.contains(&key.as_str()) {
        return false;
    }
    let mut roles = [false; 3];
    for line in lines.iter().skip(i + 1).take(5) {
        let Some(key) = field_name(line) else {
            continue;
        };
        for (role, keys) in [DATE_KEYS, TO_KEYS, SUBJECT_KEYS].iter().enumerate() {
            roles[role] |= keys.contains(&key.as_str());
        }
    }
    roles.iter().filter(|&&r| r).count() >= 2
}

/// Lotus Notes' reply header: `"Ann Lee" <ann@x.org> on 03/06/2001 10:15 AM`
/// or `Ann Lee@ECT` and a date line, followed by `To:` within three lines.
/// `lower` is the line trimmed and lower-cased.
fn lotus_header_at(lines: &[&str], i: usize, lower: &str) -> bool {
    let looks_like_sender = (lower.contains(" on ") && lower.bytes().any(|b| b.is_ascii_digit()))
        || (lower.contains('@') && lower.split_whitespace().count() <= 4 && !lower.contains(':'));
    if !looks_like_sender || field_name(lower).is_some() {
        return false;
    }
    lines
        .iter()
        .skip(i + 1)
        .take(3)
        .any(|l| field_name(l).is_some_and(|k| k == "to"))
}

/// "Sent from my iPhone", "Get Outlook for Android" and their translations:
/// a line the mail app adds, not the sender.
pub fn is_mobile_footer(line: &str) -> bool {
    const FOOTERS: &[&str] = &[
        "sent from my ",
        "sent from outlook",
        "sent from mail for",
        "sent from yahoo mail",
        "sent from samsung",
        "sent from the all new aol app",
        "sent via ",
        "sent with ",
        "get outlook for ",
        "von meinem ",
        "gesendet von meinem",
        "envoyé de mon ",
        "envoyé depuis mon ",
        "enviado desde mi ",
        "enviado do meu ",
        "enviado de meu ",
        "verzonden vanaf mijn ",
        "verstuurd vanaf mijn ",
        "inviato da ",
        "отправлено с ",
        "skickat från min ",
    ];
    let trimmed = line.trim().trim_start_matches(['-', '–', '—', ' ']);
    if trimmed.chars().count() > 70 {
        return false;
    }
    crate::text::lower_starts_with_any(trimmed, FOOTERS)
}

/// The first line of a legal or environmental notice, which runs to the end
/// of the sender's text.
pub fn is_disclaimer(line: &str) -> bool {
    const OPENERS: &[&str] = &[
        "confidentiality notice",
        "confidentiality note",
        "disclaimer",
        "legal disclaimer",
        "important notice",
        "this e-mail and any",
        "this email and any",
        "this e-mail message",
        "this email message",
        "this message and any",
        "this message is intended",
        "this email is intended",
        "this e-mail is intended",
        "this communication is intended",
        "the information contained in this",
        "the information in this e-mail",
        "the information in this email",
        "this e-mail may contain",
        "this email may contain",
        "please consider the environment",
        "diese e-mail enthält",
        "diese nachricht enthält",
        "ce message et",
        "ce courriel",
        "este mensaje",
        "este correo",
        "esta mensagem",
        "dit bericht",
        "questo messaggio",
        "данное сообщение",
    ];
    let text = line.trim().trim_start_matches(['*', '-', '_', ' ']);
    // Most lines open with none of them: the whole line is lower-cased
    // only for one that does.
    if !crate::text::lower_starts_with_any(text, OPENERS) {
        return false;
    }
    let lower = text.to_lowercase();
    OPENERS.iter().any(|o| lower.starts_with(o))
        && (lower.contains("confidential")
            || lower.contains("intended")
            || lower.contains("privileged")
            || lower.contains("environment")
            || lower.starts_with("disclaimer")
            || lower.starts_with("legal disclaimer")
            || lower.starts_with("important notice")
            || lower.starts_with("confidentiality")
            || lower.contains("vertraulich")
            || lower.contains("confidentiel")
            || lower.contains("confidencial")
            || lower.contains("vertrouwelijk")
            || lower.contains("riservat")
            || lower.contains("конфиденц"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(body: &str) -> String {
        own_text(body).lines.join("\n")
    }

    #[test]
    fn cuts_at_the_first_header_after_text() {
        let body = "Sounds good.\n\nOn Mon, 3 Jun 2024, Ann <a@x.org> wrote:\n> old text\n";
        assert_eq!(own(body), "Sounds good.");
        assert!(own_text(body).quotes_other);
    }

    #[test]
    fn wrapped_attribution() {
        let body = "Yes.\n\nOn Mon, 3 Jun 2024 at 10:00, Ann Lee <\nann@x.org> wrote:\n\n> old\n";
        assert_eq!(own(body), "Yes.");
    }

    #[test]
    fn outlook_block_without_address() {
        let body = "Done.\n\nFrom: Ann Lee\nSent: Monday, June 3, 2024 10:00 AM\nTo: Bob\nSubject: Plan\n\nOld text\n";
        assert_eq!(own(body), "Done.");
    }

    #[test]
    fn a_from_line_alone_is_text() {
        let body = "From: the board's point of view this is fine.\nWe go ahead.";
        assert_eq!(own(body), body);
    }

    #[test]
    fn bottom_posting_keeps_the_text_below() {
        let body =
            "On 03/06/2024 10:00, Ann wrote:\n> Can you come?\n> Ann\n\nYes, I will be there.\n";
        assert_eq!(own(body), "Yes, I will be there.");
    }

    #[test]
    fn footers_and_disclaimers() {
        let body = "On my way.\n\nSent from my iPhone\n";
        assert_eq!(own(body), "On my way.");
        let body = "See you.\n\nCONFIDENTIALITY NOTICE: This e-mail is confidential.\n";
        assert_eq!(own(body), "See you.");
    }
}
