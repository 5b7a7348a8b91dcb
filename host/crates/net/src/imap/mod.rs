//! The IMAP client: connecting (TLS, STARTTLS, plain: `connect`), logging
//! in (password; OAuth with OAUTHBEARER or XOAUTH2: `auth`) and the
//! commands of a logged-in session (`session`), with the server's NO/BAD
//! turned into a [`NetError`] that keeps its words. The wire protocol is
//! `async-imap`'s; [`ImapSession`] is the one type the rest of the host
//! sees. What sync does with it (folders, batches, write-back) is in
//! `mailroom-sync`.

pub mod auth;
pub mod connect;
pub mod session;

pub use session::{
    CopyUid, FetchedMessage, FolderStatus, IdleEnd, ImapSession, MailboxInfo, QresyncChanges,
    Selected,
};

use crate::error::NetError;
use async_imap::error::Error as ImapError;

/// Converts a protocol-level failure of a command (after login).
pub(crate) fn imap_error(server: &str, e: ImapError) -> NetError {
    match e {
        ImapError::Io(io) => NetError::Connect {
            server: server.to_owned(),
            reason: format!("the connection broke: {io}"),
        },
        ImapError::ConnectionLost => NetError::Connect {
            server: server.to_owned(),
            reason: "the server closed the connection".into(),
        },
        ImapError::No(_) | ImapError::Bad(_) => {
            NetError::Protocol(format!("{server} answered: {}", server_words(&e)))
        }
        other => NetError::Protocol(format!("{server}: {other}")),
    }
}

/// The server's own words in a NO/BAD: `[CODE] text`. async-imap keeps
/// them only in a formatted string (`code: Some(…), info: Some("…")`), so
/// they are taken back out of it; anything unexpected is shown whole.
pub(crate) fn server_words(e: &ImapError) -> String {
    let (ImapError::No(s) | ImapError::Bad(s)) = e else {
        return e.to_string();
    };
    let info = s
        .split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map(|(text, _)| text.replace("\\\"", "\"").replace("\\\\", "\\"));
    let code = s
        .split_once("code: Some(")
        .map(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("")
                .to_uppercase()
        })
        .filter(|c| !c.is_empty());
    match (code, info) {
        (Some(code), Some(info)) => format!("[{code}] {info}"),
        (None, Some(info)) => info,
        _ => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_words_are_recovered_from_async_imap_errors() {
        let e = ImapError::No(
            "code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")".into(),
        );
        assert_eq!(
            server_words(&e),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        let e = ImapError::Bad("code: None, info: Some(\"Say \\\"please\\\"\")".into());
        assert_eq!(server_words(&e), "Say \"please\"");
        let e = ImapError::No("something else".into());
        assert_eq!(server_words(&e), "something else");
    }
}
