//! The built `mailroom` binary as a child process, as people run it: start
//! it, learn the port it bound, wait until it answers, read what it
//! printed, stop it with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A minimal HTTP/1.1 GET (no client library needed): (status, body).
pub fn get(port: u16, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    request(port, "GET", path, token)
}

/// A minimal HTTP/1.1 request without a body: (status, body).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Lines a child prints, as they come, from a reader thread.
pub fn lines_of(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits for the line in which the child names the port it bound (it was
/// started on port 0: a port picked here and passed in could be taken by a
/// parallel test before the child binds it). Returns the port and what was
/// printed up to then.
pub fn bound_port(
    child: &mut Child,
    lines: &Receiver<String>,
    port_in: impl Fn(&str) -> Option<u16>,
) -> (u16, Vec<String>) {
    let mut printed = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(240) {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let port = port_in(&line);
                printed.push(line);
                if let Some(port) = port {
                    return (port, printed);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mailroom exited with {status}: {printed:#?}");
        }
    }
    panic!("mailroom did not say where it listens: {printed:#?}");
}

/// The port of `http://127.0.0.1:PORT` in a line.
pub fn url_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("http://127.0.0.1:")? + "http://127.0.0.1:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The port of `mailroom serve --log-json`'s "serving" event.
pub fn serving_port(line: &str) -> Option<u16> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    let address = event["fields"]["address"].as_str()?;
    address
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.port())
}

pub fn wait_healthy(child: &mut std::process::Child, port: u16) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Ok((200, _)) = get(port, "/healthz", None) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mailroom exited with {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("mailroom did not answer /healthz in time");
}

pub fn stop(mut child: std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "mailroom exited with {status} on SIGTERM");
}

pub fn printed_token(stdout: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("mr_"))
        .unwrap_or_else(|| panic!("no token printed: {stdout}"))
        .to_owned()
}
