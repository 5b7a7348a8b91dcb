//! Small network fixtures: free ports, a port nobody listens on, and a
//! server that accepts connections but never answers.

use socket2::{Domain, Protocol, Socket, Type};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A loopback port that was free a moment ago (the OS picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("find a free loopback port: {e}"))
}

/// A loopback port where connecting is refused, for as long as this lives.
///
/// The port is bound but never listened on: the kernel refuses connections
/// to it, and no other socket can take it meanwhile (a port merely picked
/// and released could be bound by a parallel test and then answer).
pub struct ClosedPort {
    _reserved: Socket,
    port: u16,
}

impl ClosedPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

pub fn closed_port() -> ClosedPort {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| {
            s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
            Ok(s)
        })
        .unwrap_or_else(|e| panic!("reserve a loopback port: {e}"));
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("reserved port");
    ClosedPort {
        _reserved: socket,
        port,
    }
}

/// Accepts TCP connections, reads and discards what the client sends, and
/// never writes a byte: a hung server. Connections stay open until drop.
pub struct SilentServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent server");
        let addr = listener.local_addr().expect("silent server address");
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (stop2, held2) = (stop.clone(), held.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                // Drain the client's bytes so its writes never block; answer nothing.
                if let Ok(mut reader) = conn.try_clone() {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
                    });
                }
                if let Ok(mut held) = held2.lock() {
                    held.push(conn);
                }
            }
        });
        SilentServer {
            addr,
            stop,
            held,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Ok(held) = self.held.lock() {
            for c in held.iter() {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
