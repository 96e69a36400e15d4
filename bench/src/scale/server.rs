//! The broadcast server: accepts WebSocket connections and, when told on its
//! control connection, writes one small binary frame to every one of them.
//!
//! Same style as the echo server (`wsnova_bench::server`): one tokio
//! current-thread runtime, one task per connection, the minimal upgrade of
//! `wsnova_bench::upgrade`. After the upgrade a connection task only reads
//! (and discards) until EOF, with a 256-byte stack buffer, so idle
//! connections cost the server little. The upgraded sockets are kept in a
//! list; a broadcast walks it and does one non-blocking `write` of the
//! frame per socket, back to back, with no wake-up in between (a socket
//! whose buffer is full, which an idle loopback connection never is, gets
//! its frame from a task of its own later).
//!
//! Control protocol (plain TCP, one line each way):
//! `BROADCAST` → `SENT <written> <deferred> <failed> <µs spent writing>`;
//! `QUIT` → the process exits at once (the server closes first, so the
//! `TIME_WAIT`s land on its side).

use std::cell::RefCell;
use std::io::{self, Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use wsnova_bench::upgrade::{self, MAX_REQUEST};

/// The broadcast frame: FIN + binary, unmasked, an 8-byte payload.
pub const FRAME: &[u8; 10] = b"\x82\x08wsnova!!";
/// The payload length clients check.
pub const PAYLOAD_LEN: usize = FRAME.len() - 2;
/// Pending connections the kernel may queue (capped by `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// The upgraded connections, in the order they were upgraded.
type Registry = Rc<RefCell<Vec<Rc<TcpStream>>>>;

/// Runs the server until `QUIT`, or until its stdin closes (the parent died).
pub fn run(cpu: Option<usize>) -> io::Result<()> {
    if let Some(cpu) = cpu {
        wsnova_bench::sys::pin_to_cpu(cpu)?;
    }
    if let Err(e) = wsnova_bench::sys::raise_nofile_limit() {
        eprintln!("broadcast server: cannot raise RLIMIT_NOFILE: {e}");
    }
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = io::stdin();
        while let Ok(1..) = stdin.read(&mut sink) {}
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve())
}

fn listen() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    socket.listen(LISTEN_BACKLOG)
}

async fn serve() -> io::Result<()> {
    let websocket = listen()?;
    let control = listen()?;
    {
        let mut stdout = io::stdout().lock();
        writeln!(
            stdout,
            "LISTENING {} {}",
            websocket.local_addr()?.port(),
            control.local_addr()?.port()
        )?;
        stdout.flush()?;
    }
    let registry: Registry = Rc::default();
    let conns = registry.clone();
    tokio::task::spawn_local(async move {
        loop {
            match control.accept().await {
                Ok((socket, _)) => {
                    let conns = conns.clone();
                    tokio::task::spawn_local(async move {
                        if let Err(e) = control_connection(socket, conns).await {
                            eprintln!("broadcast server: control: {e}");
                        }
                    });
                }
                Err(e) => eprintln!("broadcast server: control accept: {e}"),
            }
        }
    });
    loop {
        let (socket, _) = match websocket.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: say so, and keep serving the others.
                eprintln!("broadcast server: accept: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        socket.set_nodelay(true)?;
        let conns = registry.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = websocket_connection(socket, conns).await
                && !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                )
            {
                eprintln!("broadcast server: connection: {e}");
            }
        });
    }
}

/// Writes all of `data` to a shared socket.
async fn write_all(socket: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        socket.writable().await?;
        match socket.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn websocket_connection(socket: TcpStream, conns: Registry) -> io::Result<()> {
    let mut request = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let response = loop {
        socket.readable().await?;
        let n = match socket.try_read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        request.extend_from_slice(&chunk[..n]);
        match upgrade::try_upgrade(&request) {
            Ok(Some(up)) => break up.response,
            Ok(None) if request.len() < MAX_REQUEST => {}
            Ok(None) => return Err(io::Error::other("upgrade request too long")),
            Err(e) => {
                write_all(&socket, upgrade::BAD_REQUEST).await?;
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    };
    drop(request);
    let socket = Rc::new(socket);
    // Listed before the 101 goes out: a client that sees itself connected
    // is sure to get the broadcast.
    conns.borrow_mut().push(socket.clone());
    write_all(&socket, &response).await?;
    drop(response);
    // Idle: discard whatever comes (nothing, normally) until EOF.
    let mut sink = [0u8; 256];
    loop {
        socket.readable().await?;
        match socket.try_read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

async fn control_connection(socket: TcpStream, conns: Registry) -> io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        match line.trim() {
            "BROADCAST" => {
                let report = broadcast(&conns);
                write.write_all(report.as_bytes()).await?;
            }
            "QUIT" => std::process::exit(0),
            other => {
                let reply = format!("ERROR unknown command {other:?}\n");
                write.write_all(reply.as_bytes()).await?;
            }
        }
    }
    Ok(())
}

/// One non-blocking write of [`FRAME`] per connection, back to back.
fn broadcast(conns: &Registry) -> String {
    let started = Instant::now();
    let (mut written, mut deferred, mut failed) = (0usize, 0usize, 0usize);
    for socket in conns.borrow().iter() {
        match socket.try_write(FRAME) {
            Ok(n) if n == FRAME.len() => written += 1,
            Ok(n) => {
                deferred += 1;
                let socket = socket.clone();
                tokio::task::spawn_local(async move {
                    let _ = write_all(&socket, &FRAME[n..]).await;
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                deferred += 1;
                let socket = socket.clone();
                tokio::task::spawn_local(async move {
                    let _ = write_all(&socket, FRAME).await;
                });
            }
            Err(_) => failed += 1,
        }
    }
    let micros = started.elapsed().as_micros();
    format!("SENT {written} {deferred} {failed} {micros}\n")
}
