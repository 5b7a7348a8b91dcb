//! An SMTP server that accepts every message and records it: the far end
//! of Dovecot's submission relay in tests of sending (start it with
//! [`SmtpSink::relay_for`]), so a test can assert what actually left —
//! envelope and bytes — and how many times. It can be made unavailable
//! (every connection gets `421`) to test a relay that is down, without
//! giving its port away.
//!
//! It speaks just enough ESMTP for a relaying MTA (EHLO/HELO, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, NOOP, QUIT) and nothing that would make
//! a client change its behaviour (no STARTTLS, AUTH, CHUNKING or PIPELINING),
//! unless started with [`SmtpSink::refusing_auth`]: then it offers
//! `AUTH PLAIN` and refuses every login with the reply it was given, as a
//! provider's submission server does (e.g. Microsoft 365's `535 5.7.139`
//! when SMTP AUTH is turned off).

use crate::Dovecot;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One message as the sink received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address, without angle brackets.
    pub mail_from: String,
    /// The `RCPT TO` addresses, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted after DATA, dot-unstuffed, CRLF line ends.
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.data);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push(' ');
                    v.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.trim().eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

pub struct SmtpSink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    available: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    thread: Option<JoinHandle<()>>,
    /// How many AUTH commands were refused.
    auth_attempts: Arc<std::sync::atomic::AtomicUsize>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub fn start() -> SmtpSink {
        Self::serve_on(Self::loopback(), None)
    }

    /// Listens on a free loopback port, offers `AUTH PLAIN` and answers
    /// every AUTH with `reply` (a full SMTP reply line without CRLF, e.g.
    /// `535 5.7.139 Authentication unsuccessful, …`).
    pub fn refusing_auth(reply: &str) -> SmtpSink {
        Self::serve_on(Self::loopback(), Some(reply.to_owned()))
    }

    fn loopback() -> TcpListener {
        TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("bind the SMTP sink on a loopback port: {e}"))
    }

    /// Serves the port `dovecot`'s submission service relays to.
    pub fn relay_for(dovecot: &Dovecot) -> SmtpSink {
        Self::serve_on(dovecot.take_relay_listener(), None)
    }

    fn serve_on(listener: TcpListener, auth_refusal: Option<String>) -> SmtpSink {
        let addr = listener.local_addr().expect("SMTP sink address");
        let stop = Arc::new(AtomicBool::new(false));
        let available = Arc::new(AtomicBool::new(true));
        let received = Arc::new(Mutex::new(Vec::new()));
        let auth_attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (stop2, available2, received2) = (stop.clone(), available.clone(), received.clone());
        let attempts2 = auth_attempts.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                if !available2.load(Ordering::SeqCst) {
                    // What a server that cannot take mail now says (RFC 5321 3.1).
                    let _ = conn.write_all(b"421 4.3.2 mailroom-test-sink unavailable\r\n");
                    continue;
                }
                let received = received2.clone();
                let auth = auth_refusal.clone().map(|reply| (reply, attempts2.clone()));
                std::thread::spawn(move || {
                    // A client that goes away mid-session is its business.
                    let _ = serve(conn, &received, auth.as_ref());
                });
            }
        });
        SmtpSink {
            addr,
            stop,
            available,
            received,
            thread: Some(thread),
            auth_attempts,
        }
    }

    /// How many logins a [`SmtpSink::refusing_auth`] sink refused.
    pub fn auth_attempts(&self) -> usize {
        self.auth_attempts.load(Ordering::SeqCst)
    }

    /// While `false`, every connection is greeted with `421` and closed:
    /// a relay that is down, on a port that stays this sink's.
    pub fn set_available(&self, available: bool) {
        self.available.store(available, Ordering::SeqCst);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.received.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Waits until at least `n` messages arrived (a relay delivers after
    /// it answered its own client) and returns them all; panics after
    /// `timeout` with what did arrive.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP sink received {} message(s) within {timeout:?}, expected {n}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `<addr>` out of `MAIL FROM:<addr> PARAMS` / `RCPT TO:<addr>`.
fn path(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

/// `auth`: the reply refusing every AUTH, and the count of refusals.
fn serve(
    conn: TcpStream,
    received: &Mutex<Vec<ReceivedMail>>,
    auth: Option<&(String, Arc<std::sync::atomic::AtomicUsize>)>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    w.write_all(b"220 mailroom-test-sink ESMTP\r\n")?;
    let mut from: Option<String> = None;
    let mut rcpt: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, arg) = line.split_once([' ', ':']).unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" if auth.is_some() => {
                w.write_all(b"250-mailroom-test-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")?
            }
            "EHLO" => w.write_all(b"250-mailroom-test-sink\r\n250 8BITMIME\r\n")?,
            "AUTH" if auth.is_some() => {
                if let Some((reply, attempts)) = auth {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    w.write_all(format!("{reply}\r\n").as_bytes())?;
                }
            }
            "HELO" => w.write_all(b"250 mailroom-test-sink\r\n")?,
            "MAIL" => {
                from = Some(path(arg));
                rcpt.clear();
                w.write_all(b"250 2.1.0 Ok\r\n")?;
            }
            "RCPT" => {
                rcpt.push(path(arg));
                w.write_all(b"250 2.1.5 Ok\r\n")?;
            }
            "DATA" => {
                if from.is_none() || rcpt.is_empty() {
                    w.write_all(b"503 5.5.1 MAIL and RCPT first\r\n")?;
                    continue;
                }
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut data = Vec::new();
                loop {
                    let mut raw = Vec::new();
                    if r.read_until(b'\n', &mut raw)? == 0 {
                        return Ok(());
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    // RFC 5321 4.5.2: a leading dot was doubled by the client.
                    let line = if raw.starts_with(b"..") {
                        &raw[1..]
                    } else {
                        &raw[..]
                    };
                    data.extend_from_slice(line);
                }
                let mail = ReceivedMail {
                    mail_from: from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt),
                    data,
                };
                if let Ok(mut list) = received.lock() {
                    list.push(mail);
                }
                w.write_all(b"250 2.0.0 Ok: queued\r\n")?;
            }
            "RSET" => {
                from = None;
                rcpt.clear();
                w.write_all(b"250 2.0.0 Ok\r\n")?;
            }
            "NOOP" => w.write_all(b"250 2.0.0 Ok\r\n")?,
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => w.write_all(b"502 5.5.2 Command not recognized\r\n")?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_envelope_and_unstuffed_data() {
        let sink = SmtpSink::start();
        let s = TcpStream::connect(sink.addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut line = String::new();
        let mut expect = |prefix: &str, r: &mut BufReader<TcpStream>| loop {
            line.clear();
            r.read_line(&mut line).expect("read");
            assert!(
                line.starts_with(prefix),
                "{line:?} should start with {prefix}"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        };
        expect("220", &mut r);
        w.write_all(b"EHLO me\r\n").expect("send");
        expect("250", &mut r);
        w.write_all(b"MAIL FROM:<a@x.example> BODY=8BITMIME\r\n")
            .expect("send");
        expect("250", &mut r);
        w.write_all(b"RCPT TO:<b@y.example>\r\n").expect("send");
        expect("250", &mut r);
        w.write_all(b"DATA\r\n").expect("send");
        expect("354", &mut r);
        w.write_all(b"Subject: hi\r\n\r\n..dot\r\n.\r\n")
            .expect("send");
        expect("250", &mut r);
        w.write_all(b"QUIT\r\n").expect("send");
        expect("221", &mut r);
        let got = sink.wait_for(1, Duration::from_secs(5));
        assert_eq!(got[0].mail_from, "a@x.example");
        assert_eq!(got[0].rcpt_to, ["b@y.example"]);
        assert_eq!(got[0].data, b"Subject: hi\r\n\r\n.dot\r\n");
        assert_eq!(got[0].header("subject").as_deref(), Some("hi"));
    }
}
