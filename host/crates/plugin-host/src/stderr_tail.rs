//! A plugin's stderr as the host keeps it: the last bytes written, for the
//! error report of a call that fails (a Rust panic message is written
//! last). Writes never fail and never block, whatever the plugin writes, so
//! a plugin cannot hide its real panic by filling the buffer first, and a
//! full buffer is never an error inside a WASI call.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// The most one write may hand over; the plugin's writes are split to it.
const WRITE_PERMIT: usize = 64 << 10;

#[derive(Debug, Default)]
struct Tail {
    bytes: VecDeque<u8>,
    /// Bytes written and no longer kept.
    dropped: u64,
}

/// Keeps the last `capacity` bytes written; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct StderrTail {
    capacity: usize,
    tail: Arc<Mutex<Tail>>,
}

impl StderrTail {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            tail: Arc::default(),
        }
    }

    fn push(&self, data: &[u8]) {
        let mut tail = self.tail.lock();
        let data = if data.len() > self.capacity {
            tail.dropped += (data.len() - self.capacity) as u64;
            &data[data.len() - self.capacity..]
        } else {
            data
        };
        let over = (tail.bytes.len() + data.len()).saturating_sub(self.capacity);
        tail.bytes.drain(..over);
        tail.dropped += over as u64;
        tail.bytes.extend(data);
    }

    /// What is kept, lossily decoded and trimmed, saying how much came before it.
    pub fn text(&self) -> String {
        let tail = self.tail.lock();
        let (front, back) = tail.bytes.as_slices();
        let kept = String::from_utf8_lossy(&[front, back].concat())
            .trim()
            .to_owned();
        if tail.dropped == 0 || kept.is_empty() {
            kept
        } else {
            format!("[{} earlier bytes not kept] {kept}", tail.dropped)
        }
    }
}

#[async_trait::async_trait]
impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_bytes_and_counts_the_rest() {
        let tail = StderrTail::new(8);
        tail.push(b"0123456789");
        tail.push(b"ab");
        assert_eq!(tail.text(), "[4 earlier bytes not kept] 456789ab");
        let short = StderrTail::new(8);
        short.push(b"panic");
        assert_eq!(short.text(), "panic");
    }
}
