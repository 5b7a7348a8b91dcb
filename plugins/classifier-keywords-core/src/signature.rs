//! Finding the signature block at the end of a message and reading a
//! contact card out of it.
//!
//! Where a signature starts, in order of trust: the RFC 3676 delimiter
//! `-- `; a closing such as `Best regards,` near the end; a short last
//! paragraph that starts with something shaped like a name. The block is then
//! read cell by cell (signatures often put two columns side by side with
//! tabs): emails, web sites, phone numbers, a name, a job title, a company
//! and a postal address.

use crate::text::lower_is_any;

/// What a signature says about its writer. All fields are optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub name: Option<String>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub postal_address: Option<String>,
    pub website: Option<String>,
}

impl Signature {
    pub fn is_empty(&self) -> bool {
        *self == Signature::default()
    }
}

/// Closings that end the message proper, lower case, without punctuation.
const CLOSINGS: &[&str] = &[
    "best",
    "best regards",
    "best wishes",
    "kind regards",
    "kindest regards",
    "regards",
    "warm regards",
    "warmest regards",
    "many thanks",
    "thanks",
    "thank you",
    "thanks again",
    "thanks in advance",
    "cheers",
    "sincerely",
    "yours sincerely",
    "sincerely yours",
    "yours truly",
    "yours faithfully",
    "respectfully",
    "all the best",
    "take care",
    "thx",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "freundliche grüße",
    "viele grüße",
    "beste grüße",
    "liebe grüße",
    "gruß",
    "grüße",
    "cordialement",
    "bien cordialement",
    "bien à vous",
    "salutations",
    "saludos",
    "un saludo",
    "atentamente",
    "cordiali saluti",
    "distinti saluti",
    "saluti",
    "atenciosamente",
    "abraços",
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "groeten",
    "hälsningar",
    "med vänlig hälsning",
];

const TITLE_WORDS: &[&str] = &[
    "manager",
    "director",
    "engineer",
    "ceo",
    "cto",
    "cfo",
    "coo",
    "founder",
    "co-founder",
    "president",
    "vp",
    "vice",
    "head",
    "lead",
    "officer",
    "consultant",
    "specialist",
    "analyst",
    "developer",
    "architect",
    "administrator",
    "assistant",
    "associate",
    "coordinator",
    "representative",
    "executive",
    "partner",
    "owner",
    "advisor",
    "designer",
    "sales",
    "marketing",
    "support",
    "account",
    "senior",
    "junior",
    "chief",
    "trader",
    "counsel",
    "attorney",
    "geschäftsführer",
    "leiter",
    "leiterin",
    "directeur",
    "directrice",
    "responsable",
    "gerente",
    "amministratore",
    "bauleiter",
    "referent",
    "referentin",
    "personalreferentin",
    "secretary",
    "recruiter",
    "buyer",
    "accountant",
];

/// Small words a company name may hold in lower case.
const NAME_CONNECTORS: &[&str] = &[
    "&", "and", "of", "de", "des", "du", "la", "le", "del", "di", "da", "do", "van", "von", "der",
    "den", "und", "et", "y",
];

const COMPANY_MARKERS: &[&str] = &[
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "llc",
    "gmbh",
    "ag",
    "corp",
    "corp.",
    "corporation",
    "company",
    "co.",
    "plc",
    "s.a.",
    "sa",
    "sarl",
    "s.r.l.",
    "srl",
    "b.v.",
    "bv",
    "n.v.",
    "oy",
    "ab",
    "as",
    "kg",
    "group",
    "limited",
    "lp",
    "llp",
    "pty",
];

const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "st.",
    "avenue",
    "ave",
    "ave.",
    "road",
    "rd",
    "rd.",
    "boulevard",
    "blvd",
    "suite",
    "drive",
    "dr.",
    "lane",
    "way",
    "plaza",
    "floor",
    "straße",
    "strasse",
    "str.",
    "weg",
    "platz",
    "rue",
    "calle",
    "via",
    "straat",
    "laan",
    "po",
    "p.o.",
];

/// The signature lines of the sender's own text, and the index where they
/// start (a closing such as `Thanks,` included); `None` when no signature is
/// recognised. The lines may be empty: a bare closing.
pub fn split(lines: &[&str]) -> Option<(usize, Vec<String>)> {
    // 1. The standard delimiter ("-- ", often trimmed to "--").
    if let Some(at) = lines.iter().rposition(|l| l.trim_end() == "--") {
        let block = block_after(lines, at + 1);
        return (!block.is_empty()).then_some((at, block));
    }
    // 2. A closing among the last lines; what follows it on the same line
    //    ("Thanks, David Poston") belongs to the signature.
    let nonblank: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    for &at in nonblank.iter().rev().take(12) {
        if let Some(rest) = closing_rest(lines[at]) {
            let mut block = Vec::new();
            if !rest.is_empty() {
                block.push(rest.to_string());
            }
            block.extend(block_after(lines, at + 1));
            // A closing with nothing after it still ends the message proper
            // (the summary stops there); the card is then empty.
            return Some((at, block));
        }
    }
    // 3. A short last paragraph that opens with a name, after some text.
    let last = *nonblank.last()?;
    let start = (0..=last)
        .rev()
        .find(|&i| lines[i].trim().is_empty())
        .map(|i| i + 1)?;
    let block: Vec<&str> = lines[start..=last].to_vec();
    let has_text_before = lines[..start].iter().any(|l| !l.trim().is_empty());
    let short = block.len() <= 6 && block.iter().all(|l| l.trim().chars().count() <= 80);
    let first = block[0]
        .trim()
        .trim_start_matches(['-', '–', '—', '~'])
        .trim();
    if has_text_before && short && looks_like_name(first) {
        return Some((start, block_after(lines, start)));
    }
    None
}

fn block_after(lines: &[&str], from: usize) -> Vec<String> {
    lines[from.min(lines.len())..]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .take(12)
        .map(str::to_string)
        .collect()
}

/// If `line` is (or starts with) a closing, the text after it.
fn closing_rest(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    if trimmed.chars().count() > 60 {
        return None;
    }
    let lower = trimmed.to_lowercase();
    let cut = lower.find([',', '!']).unwrap_or(lower.len());
    let head = lower[..cut].trim().trim_end_matches(['.', '-']).trim();
    if !CLOSINGS.contains(&head) {
        return None;
    }
    // `lower` and `trimmed` can differ in byte length only for rare letters;
    // fall back to no remainder then.
    let rest = if lower.len() == trimmed.len() {
        trimmed[cut.min(trimmed.len())..]
            .trim_start_matches([',', '!'])
            .trim()
    } else {
        ""
    };
    Some(rest)
}

/// One to four words, letters only (with `.`, `-`, `'`), each capitalised or
/// an initial: "Diane", "John Oh", "Mary-Ann O'Neil", "J. R. Smith".
pub fn looks_like_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 || closing_rest(text).is_some() {
        return false;
    }
    // Initials alone ("BT") say too little to be a card's name.
    if words.iter().all(|w| !w.chars().any(char::is_lowercase)) {
        return false;
    }
    // Attachment and document titles ("Certification Document") are
    // capitalised too.
    if words.iter().any(|w| lower_is_any(w, NOT_NAME_WORDS)) {
        return false;
    }
    words.iter().all(|w| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '.' | '-' | '\''))
    })
}

/// Words of document titles and attachment names, never of a person's name.
const NOT_NAME_WORDS: &[&str] = &[
    "document",
    "documents",
    "attachment",
    "attachments",
    "attached",
    "report",
    "agreement",
    "contract",
    "schedule",
    "form",
    "forms",
    "spreadsheet",
    "presentation",
    "memo",
    "invoice",
    "certification",
    "certificate",
    "file",
    "files",
    "draft",
    "summary",
    "proposal",
    "policy",
    "minutes",
    "agenda",
];

/// Reads the contact card from signature lines.
pub fn parse(lines: &[String]) -> Signature {
    let mut sig = Signature::default();
    let mut text_cells: Vec<String> = Vec::new();
    for line in lines {
        // Two columns side by side: split on tabs and runs of spaces.
        for cell in line.split(['\t', '|']).flat_map(|c| c.split("   ")) {
            let cell = cell
                .trim()
                .trim_start_matches(['-', '–', '—', '~', '#'])
                .trim();
            if cell.is_empty() {
                continue;
            }
            let mut rest = cell.to_string();
            for word in cell.split_whitespace() {
                let w = word.trim_matches(|c: char| {
                    matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';')
                });
                let w = w.strip_prefix("mailto:").unwrap_or(w);
                if is_email(w) {
                    push_unique(&mut sig.emails, w.to_string());
                    rest = rest.replace(word, " ");
                } else if is_url(w) {
                    if sig.website.is_none() {
                        // The contract's website is an absolute http(s) URL
                        // (the host refuses anything else): `www.x.example`
                        // as people write it becomes `https://www.x.example`.
                        let site = w.trim_end_matches(['.', '/']);
                        sig.website = Some(if site.contains("://") {
                            site.to_string()
                        } else {
                            format!("https://{site}")
                        });
                    }
                    rest = rest.replace(word, " ");
                }
            }
            for phone in phones(&rest) {
                rest = rest.replace(&phone, " ");
                push_unique(&mut sig.phones, phone);
            }
            let rest = strip_labels(&rest);
            if !rest.is_empty() {
                text_cells.push(rest);
            }
        }
    }
    for cell in text_cells {
        let lower = cell.to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let has_digit = cell.chars().any(|c| c.is_ascii_digit());
        if sig.name.is_none() && looks_like_name(&cell) && !is_title(&words) && !is_company(&words)
        {
            sig.name = Some(cell);
        } else if sig.job_title.is_none() && !has_digit && is_title(&words) {
            // "Sales Manager, Acme Inc." carries both.
            match cell.split_once([',', '@']) {
                Some((title, company))
                    if is_company(
                        &company
                            .to_lowercase()
                            .split_whitespace()
                            .collect::<Vec<_>>(),
                    ) || is_capitalised_phrase(company) =>
                {
                    sig.job_title = Some(title.trim().to_string());
                    sig.company = Some(company.trim().to_string());
                }
                _ => sig.job_title = Some(cell),
            }
        } else if sig.company.is_none() && !has_digit && is_company(&words) {
            sig.company = Some(cell);
        } else if sig.company.is_none()
            && sig.name.is_some()
            && !has_digit
            && words.len() >= 2
            && is_capitalised_phrase(&cell)
        {
            // A line of capitalised words after the name that is neither
            // the name nor a title: the company ("Fennek Media").
            sig.company = Some(cell);
        } else if has_digit && words.iter().any(|w| STREET_WORDS.contains(w)) {
            sig.postal_address = Some(match sig.postal_address.take() {
                Some(prev) => format!("{prev}, {cell}"),
                None => cell,
            });
        } else if sig.postal_address.is_some() && has_digit && cell.contains(',') {
            // The "City, ST 12345" line that follows a street line.
            let prev = sig.postal_address.take().unwrap_or_default();
            sig.postal_address = Some(format!("{prev}, {cell}"));
        }
    }
    sig
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

fn is_title(words: &[&str]) -> bool {
    words
        .iter()
        .any(|w| TITLE_WORDS.contains(&w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')))
}

fn is_company(words: &[&str]) -> bool {
    words.len() <= 6
        && words
            .iter()
            .skip(1)
            .any(|w| COMPANY_MARKERS.contains(&w.trim_end_matches(',')))
}

/// Up to six words, each capitalised, a company marker or a small
/// connector ("Ospedale San Luca", "Vogt & Partner"), the first
/// capitalised.
fn is_capitalised_phrase(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    (1..=6).contains(&words.len())
        && capitalised(words[0])
        && words.iter().all(|w| {
            capitalised(w) || lower_is_any(w, NAME_CONNECTORS) || lower_is_any(w, COMPANY_MARKERS)
        })
}

fn is_email(word: &str) -> bool {
    let Some((local, domain)) = word.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
}

fn is_url(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."))
        && lower.len() > 8
}

/// Runs of digits, spaces and `+ ( ) - . /` holding 7 to 15 digits: phone
/// numbers as people write them. Dates such as `2024-06-01` have 8 digits
/// too; they are rare in signatures, so no attempt is made to exclude them.
pub fn phones(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_phone_char =
        |c: char| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.' | '/' | ' ');
    for (k, &(i, c)) in chars.iter().enumerate() {
        let inside = is_phone_char(c);
        if inside && start.is_none() && (c.is_ascii_digit() || c == '+' || c == '(') {
            start = Some(i);
        }
        let last = k + 1 == chars.len();
        if let Some(s) = start
            && (!inside || last)
        {
            let end = if inside { i + c.len_utf8() } else { i };
            let run = text[s..end]
                .trim()
                .trim_end_matches(['-', '.', '/', '('])
                .trim();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            if (7..=15).contains(&digits) {
                out.push(run.to_string());
            }
            start = None;
        }
    }
    out
}

/// Drops "Tel:", "Mobile", "(cell)" and similar labels left after the
/// numbers were taken out.
fn strip_labels(text: &str) -> String {
    const LABELS: &[&str] = &[
        "tel", "tel.", "phone", "mobile", "mob", "mob.", "cell", "fax", "direct", "office", "t",
        "m", "f", "p", "e", "w", "email", "e-mail", "web", "www", "(cell)", "(fax)", "(mobile)",
        "(office)", "(direct)", "handy", "telefon",
    ];
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !lower_is_any(w.trim_end_matches(':'), LABELS))
        .filter(|w| *w == "&" || w.chars().any(char::is_alphanumeric))
        .collect();
    kept.join(" ")
        .trim_matches(|c: char| c == ',' || c == ':' || c.is_whitespace())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(body: &str) -> Option<Signature> {
        let lines: Vec<&str> = body.lines().collect();
        split(&lines).map(|(_, block)| parse(&block))
    }

    #[test]
    fn delimiter_and_full_card() {
        let s = sig("See you then.\n\n-- \nJane Doe\nSales Manager\nAcme Widgets GmbH\nTel: +49 30 1234567\njane@acme.example\nhttps://acme.example\n").unwrap();
        assert_eq!(s.name.as_deref(), Some("Jane Doe"));
        assert_eq!(s.job_title.as_deref(), Some("Sales Manager"));
        assert_eq!(s.company.as_deref(), Some("Acme Widgets GmbH"));
        assert_eq!(s.phones, ["+49 30 1234567"]);
        assert_eq!(s.emails, ["jane@acme.example"]);
        assert_eq!(s.website.as_deref(), Some("https://acme.example"));
    }

    #[test]
    fn closing_with_name_on_same_line() {
        let s = sig("Please call me.\n\nThanks,  David Poston\n# 713-345-7834\n").unwrap();
        assert_eq!(s.name.as_deref(), Some("David Poston"));
        assert_eq!(s.phones, ["713-345-7834"]);
    }

    #[test]
    fn two_columns() {
        let body = "Hope this helps!\n\nJohn Oh\nEnron North America\t\t503.464.5066\n121 SW Salmon Street\t\t503.701.1160 (cell)\nPortland, OR 97204\t\t\tJohn.Oh@Enron.com\n";
        let s = sig(body).unwrap();
        assert_eq!(s.name.as_deref(), Some("John Oh"));
        assert_eq!(s.phones, ["503.464.5066", "503.701.1160"]);
        assert_eq!(s.emails, ["John.Oh@Enron.com"]);
        assert_eq!(
            s.postal_address.as_deref(),
            Some("121 SW Salmon Street, Portland, OR 97204")
        );
    }

    #[test]
    fn bare_name_paragraph() {
        let s = sig("Here is the schedule.\n\nDiane\nx-37059\n").unwrap();
        assert_eq!(s.name.as_deref(), Some("Diane"));
    }

    #[test]
    fn no_signature_in_plain_text() {
        assert_eq!(
            sig("Just one paragraph of text without any sign-off."),
            None
        );
        assert_eq!(
            sig("First paragraph.\n\nSecond paragraph is a full sentence here."),
            None
        );
    }

    #[test]
    fn titles_and_initials_are_not_names() {
        assert!(!looks_like_name("Certification Document"));
        assert!(!looks_like_name("BT"));
        assert!(looks_like_name("Diane"));
        assert!(looks_like_name("J. R. Smith"));
        assert_eq!(sig("Here it is.\n\nCertification Document\n"), None);
    }

    #[test]
    fn phone_patterns() {
        assert_eq!(phones("Call +1 (555) 123-4567 now"), ["+1 (555) 123-4567"]);
        assert!(phones("Room 12, ext 345").is_empty());
    }

    #[test]
    fn company_without_a_legal_form() {
        let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let card = parse(&lines(&[
            "Nora Lindgren",
            "Marketing Manager",
            "Polarlys Outdoor",
        ]));
        assert_eq!(card.job_title.as_deref(), Some("Marketing Manager"));
        assert_eq!(card.company.as_deref(), Some("Polarlys Outdoor"));
        let card = parse(&lines(&[
            "Martina Ferraro",
            "Facility Manager | Ospedale San Luca",
        ]));
        assert_eq!(card.company.as_deref(), Some("Ospedale San Luca"));
        let card = parse(&lines(&["Fatima El-Amin", "CTO, NileBytes"]));
        assert_eq!(card.job_title.as_deref(), Some("CTO"));
        assert_eq!(card.company.as_deref(), Some("NileBytes"));
        // Not after a name, or not capitalised: no company.
        let card = parse(&lines(&["Sent via our portal", "Anna"]));
        assert_eq!(card.company, None);
    }
}
