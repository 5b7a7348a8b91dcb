//! HTML bodies of the labelled set as plain text, the way a classifier
//! receives them: source line breaks are spaces, `<br>` ends a line,
//! paragraphs, divs, headings and table rows end a block, tags go, and
//! the common entities are decoded. Enough for hand-written mail; not a
//! general HTML parser.

const BLOCK_ENDS: &[&str] = &[
    "</p>", "</div>", "</h1>", "</h2>", "</h3>", "</tr>", "</table>", "</li>",
];

pub fn html_to_text(html: &str) -> String {
    let flat = html.replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(flat.len());
    let mut rest = flat.as_str();
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            // A lone `<` is text.
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = rest[open..open + close + 1].to_ascii_lowercase();
        if tag.starts_with("<br") {
            out.push('\n');
        } else if BLOCK_ENDS.iter().any(|end| tag.starts_with(end)) {
            out.push_str("\n\n");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    // Trim each line and keep at most one blank line between blocks.
    let mut text = String::with_capacity(decoded.len());
    let mut blank = true;
    for line in decoded.lines().map(str::trim) {
        if line.is_empty() {
            if !blank {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(line);
            text.push('\n');
            blank = false;
        }
    }
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_and_entities() {
        let html = "<html><body>\n<p>Dear all,</p>\n<p>we <b>moved</b> &amp; grew.<br>\nSee you</p>\n</body></html>";
        assert_eq!(html_to_text(html), "Dear all,\n\nwe moved & grew.\nSee you");
    }
}
