//! IMAP: connecting (TLS, STARTTLS, plain), logging in (password; OAuth
//! with OAUTHBEARER or XOAUTH2), folder discovery with role mapping,
//! incremental folder sync, and writing the user's changes back
//! (`writeback`). The wire protocol is `async-imap`'s; [`ImapSession`] is the one type the
//! rest of the host sees, so POP3 can sit behind the same account-sync
//! interface later.

pub mod auth;
pub mod connect;
pub mod folder_mapping;
pub mod folders;
pub mod known;
pub mod rematch;
pub mod session;
pub mod storing;
pub mod sync;
pub mod writeback;

pub use auth::ImapAuth;
pub use connect::{ImapTarget, Timeouts};
pub use session::{
    CopyUid, FetchedMessage, FolderStatus, IdleEnd, ImapSession, MailboxInfo, QresyncChanges,
    Selected,
};

use super::error::SyncError;
use async_imap::error::Error as ImapError;

/// Converts a protocol-level failure of a command (after login).
pub(crate) fn imap_error(server: &str, e: ImapError) -> SyncError {
    match e {
        ImapError::Io(io) => SyncError::Connect {
            server: server.to_owned(),
            reason: format!("the connection broke: {io}"),
        },
        ImapError::ConnectionLost => SyncError::Connect {
            server: server.to_owned(),
            reason: "the server closed the connection".into(),
        },
        ImapError::No(_) | ImapError::Bad(_) => {
            SyncError::Protocol(format!("{server} answered: {}", server_words(&e)))
        }
        other => SyncError::Protocol(format!("{server}: {other}")),
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
