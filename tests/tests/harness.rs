//! The harness itself: each layout starts and lists the folders it
//! promises, seeding and `doveadm` changes are visible over IMAP, the proxy
//! cuts where asked, and the silent server never answers.

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailroom_test_servers::{CuttingProxy, Dovecot, Layout, SilentServer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends tagged commands over plain IMAP and returns everything read until
/// the last tag's completion.
fn imap(addr: std::net::SocketAddr, commands: &[&str]) -> String {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let mut out = String::new();
    r.read_line(&mut out).expect("greeting");
    for (i, c) in commands.iter().enumerate() {
        let tag = format!("t{i}");
        write!(w, "{tag} {c}\r\n").expect("send");
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).expect("read") == 0 {
                return out;
            }
            out.push_str(&line);
            if line.starts_with(&format!("{tag} ")) {
                break;
            }
        }
    }
    out
}

#[test]
fn special_use_layout_lists_its_folders_and_sees_seeded_mail() {
    let d = Dovecot::start(Layout::SpecialUse);
    let u = d.user().clone();
    let uid = d.seed(&u.name, "INBOX", b"Subject: one\r\n\r\nbody\r\n");
    assert_eq!(uid, 1);
    assert_eq!(d.seed(&u.name, "INBOX", b"Subject: two\r\n\r\nbody\r\n"), 2);
    d.add_flags(&u.name, "INBOX", 2, "\\Flagged");
    let out = imap(
        d.imap_addr(),
        &[
            &format!("LOGIN {} {}", u.name, u.password),
            "LIST \"\" \"*\" RETURN (SPECIAL-USE)",
            "SELECT INBOX",
            "UID FETCH 1:* (FLAGS)",
        ],
    );
    assert!(out.contains("(\\Sent) \"/\" Sent"), "{out}");
    assert!(out.contains("\\Trash"), "{out}");
    assert!(out.contains("UID 2 FLAGS (\\Flagged"), "{out}");
    d.expunge(&u.name, "INBOX", 1);
    assert_eq!(d.uids(&u.name, "INBOX"), [2]);
    let before = d.uidvalidity(&u.name, "INBOX");
    d.set_uidvalidity(&u.name, "INBOX", before + 7);
    assert_eq!(d.uidvalidity(&u.name, "INBOX"), before + 7);
}

#[test]
fn non_standard_layout_and_oauth_token_login() {
    let d = Dovecot::start(Layout::NonStandard);
    let u = d.user().clone();
    d.seed(
        &u.name,
        "INBOX.Sent Items",
        b"Subject: sent\r\n\r\nbody\r\n",
    );
    let sasl = format!("user={}\x01auth=Bearer {}\x01\x01", u.name, u.oauth_token);
    let b64 = base64(sasl.as_bytes());
    let out = imap(
        d.imap_addr(),
        &[
            &format!("AUTHENTICATE XOAUTH2 {b64}"),
            "LIST \"\" \"*\"",
            "STATUS \"INBOX.Sent Items\" (MESSAGES)",
        ],
    );
    assert!(out.contains("t0 OK"), "{out}");
    assert!(out.contains("\".\" \"INBOX.Sent Items\""), "{out}");
    assert!(out.contains("INBOX.Entw&APw-rfe"), "{out}");
    assert!(
        !out.contains("\\Sent"),
        "no special-use on this layout: {out}"
    );
    assert!(out.contains("MESSAGES 1"), "{out}");
}

#[test]
fn proxy_cuts_after_the_byte_budget_and_silent_server_stays_silent() {
    let d = Dovecot::start(Layout::SpecialUse);
    let proxy = CuttingProxy::start(d.imap_addr());
    let ok = imap(proxy.addr(), &["NOOP"]);
    assert!(ok.contains("t0 OK"), "{ok}");
    proxy.cut_after_server_bytes(Some(10));
    let mut s = TcpStream::connect(proxy.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert_eq!(got.len(), 10, "exactly the budget arrives, then EOF");
    assert_eq!(proxy.cuts(), 1);

    let silent = SilentServer::start();
    let mut s = TcpStream::connect(silent.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let err = s.read(&mut buf).expect_err("nothing to read");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn stop_takes_the_server_down_at_once() {
    let mut d = Dovecot::start(Layout::SpecialUse);
    let addr = d.imap_addr();
    let t = std::time::Instant::now();
    d.stop();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        t.elapsed()
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens after stop"
    );
}
