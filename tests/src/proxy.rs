//! A TCP proxy that can drop its connections mid-stream: either after a set
//! number of bytes from the server (to cut a FETCH response halfway) or all
//! at once on request. It stands for a network that fails at the worst
//! moment, which a test cannot otherwise arrange with a real server.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// `u64::MAX` means "never cut".
const NEVER: u64 = u64::MAX;

struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    /// Server-to-client byte budget given to each newly accepted connection.
    cut_after: AtomicU64,
    accepted: AtomicUsize,
    cuts: AtomicUsize,
    /// Connections open now, and the most ever open at once.
    live: AtomicUsize,
    peak_live: AtomicUsize,
    /// Both sockets of every open connection, to cut them from outside.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
}

pub struct CuttingProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl CuttingProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            stop: AtomicBool::new(false),
            cut_after: AtomicU64::new(NEVER),
            accepted: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            peak_live: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(s.upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                s.accepted.fetch_add(1, Ordering::SeqCst);
                let live = s.live.fetch_add(1, Ordering::SeqCst) + 1;
                s.peak_live.fetch_max(live, Ordering::SeqCst);
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let budget = s.cut_after.load(Ordering::SeqCst);
                spawn_pumps(&s, client, server, budget);
            }
        });
        CuttingProxy {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted from now on are cut once `bytes` bytes have gone
    /// from the server to the client (greeting included); `None` stops cutting.
    pub fn cut_after_server_bytes(&self, bytes: Option<u64>) {
        self.shared
            .cut_after
            .store(bytes.unwrap_or(NEVER), Ordering::SeqCst);
    }

    /// Drops every open connection now.
    pub fn cut_all(&self) {
        if let Ok(mut open) = self.shared.open.lock() {
            for (c, s) in open.drain(..) {
                self.shared.cuts.fetch_add(1, Ordering::SeqCst);
                let _ = c.shutdown(Shutdown::Both);
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The most connections that were open at the same time.
    pub fn peak_open(&self) -> usize {
        self.shared.peak_live.load(Ordering::SeqCst)
    }

    /// Connections the proxy cut (by budget or by [`CuttingProxy::cut_all`]).
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Ok(mut open) = self.shared.open.lock() {
            for (c, s) in open.drain(..) {
                let _ = c.shutdown(Shutdown::Both);
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn spawn_pumps(shared: &Arc<Shared>, client: TcpStream, server: TcpStream, budget: u64) {
    let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    ) else {
        return;
    };
    if let Ok(mut open) = shared.open.lock() {
        open.push((c3, s3));
    }
    // The connection is over as soon as either side is done with it.
    let ended = Arc::new(AtomicBool::new(false));
    let end = {
        let (shared, ended) = (shared.clone(), ended.clone());
        move || {
            if !ended.swap(true, Ordering::SeqCst) {
                shared.live.fetch_sub(1, Ordering::SeqCst);
            }
        }
    };
    let end_too = end.clone();
    // Client to server: plain copy.
    std::thread::spawn(move || {
        let (mut from, mut to) = (c2, s2);
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        end_too();
        let _ = to.shutdown(Shutdown::Write);
    });
    // Server to client: copy until the budget is spent, then cut both sides.
    let shared = shared.clone();
    std::thread::spawn(move || {
        let (mut from, mut to) = (server, client);
        let mut left = budget;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let pass = usize::try_from(left).map_or(n, |l| l.min(n));
            if to.write_all(&buf[..pass]).is_err() {
                break;
            }
            left -= pass as u64;
            if left == 0 {
                // Counted first: the client may observe the cut at once.
                shared.cuts.fetch_add(1, Ordering::SeqCst);
                end();
                let _ = to.flush();
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
                return;
            }
        }
        end();
        let _ = to.shutdown(Shutdown::Write);
    });
}
