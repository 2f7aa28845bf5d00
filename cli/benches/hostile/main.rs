//! What hostile clients cost a live server, measured from outside: the
//! server's resident memory (`/proc/<pid>/status`) while the clients run.
//! Prints figures, never asserts (`scripts/bench-hostile` runs it against
//! the reference server and Node socket.io side by side).
//!
//! ```text
//! cargo bench -p siosim --bench hostile -- amplification <url> <server pid> [idle clients] [messages] [bytes]
//! cargo bench -p siosim --bench hostile -- slow-readers <url> <server pid> [readers] [seconds] [bytes]
//! cargo bench -p siosim --bench hostile -- slowloris <url> <server pid> [connections] [seconds]
//! cargo bench -p siosim --bench hostile -- descriptors <url> <server pid> [idle connections] [seconds]
//! ```
//!
//! `amplification`: idle clients join over long-polling and never poll
//! again, then one WebSocket client sends large `chat message`s, which the
//! server must queue for every idle client until the heartbeat drops them.
//! A server that copies the payload per recipient grows by about
//! idle × messages × bytes; one that shares it, by about messages × bytes.
//!
//! `slow-readers`: WebSocket clients join and never read again (so they
//! answer no ping either), while another client sends a large `chat
//! message` every second; each reader probes its connection with a
//! WebSocket ping frame every 250 ms, and the first write that fails is
//! when the server dropped it. A server that never drops them keeps a
//! queue of messages for each.
//!
//! `slowloris` ([`slowloris`]) and `descriptors` ([`descriptors`]) are
//! about connections, not messages.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

mod descriptors;
mod slowloris;

use serde_json::json;
use siosim_harness::{ClientScript, LiveServer, Scenario, Step, Transport};

/// How often the server's memory is sampled while the clients run.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("amplification") if args.len() >= 3 => amplification(&args[1..]),
        Some("slow-readers") if args.len() >= 3 => slow_readers(&args[1..]),
        Some("slowloris") if args.len() >= 3 => slowloris::run(&args[1..]),
        Some("descriptors") if args.len() >= 3 => descriptors::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: hostile amplification <url> <server pid> [idle clients] [messages] [bytes]\n       hostile slow-readers <url> <server pid> [readers] [seconds] [bytes]\n       hostile slowloris <url> <server pid> [connections] [seconds]\n       hostile descriptors <url> <server pid> [idle connections] [seconds]"
            );
            std::process::exit(2);
        }
    }
}

fn amplification(args: &[String]) {
    let (addr, pid) = (socket_addr(&args[0]), server_pid(args));
    let number = |i: usize, default: usize| number_or(args, i, default);
    let (idle, messages, bytes) = (number(2, 200), number(3, 10), number(4, 900_000));
    let before = rss_kib(pid);
    let started = Instant::now();
    let opened = open_idle_sessions(addr, idle);
    let scenario = large_messages(messages, bytes);
    let (report, peak) = std::thread::scope(|scope| {
        let run = scope.spawn(|| LiveServer::new(addr).run(&scenario, 1));
        let mut peak = before;
        while !run.is_finished() {
            peak = peak.max(rss_kib(pid));
            std::thread::sleep(SAMPLE_EVERY);
        }
        (run.join().expect("the clients' thread"), peak)
    });
    let report = report.expect("a fault-free scenario");
    let growth_mib = (peak.saturating_sub(before)) as f64 / 1024.0;
    let queued_mib = (opened * messages * bytes) as f64 / (1024.0 * 1024.0);
    let sent_mib = (messages * bytes) as f64 / (1024.0 * 1024.0);
    println!(
        "amplification: {opened}/{idle} idle polling clients, {messages} x {bytes} B chat messages ({sent_mib:.1} MiB sent, {queued_mib:.0} MiB owed to idle clients): server RSS {:.1} -> peak {:.1} MiB, +{growth_mib:.1} MiB = {:.3} of the bytes owed, {:.1}x the bytes sent; {} failed expectations, {:.1} s",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        growth_mib / queued_mib,
        growth_mib / sent_mib,
        report.failures.len(),
        started.elapsed().as_secs_f64(),
    );
}

fn slow_readers(args: &[String]) {
    let (addr, pid) = (socket_addr(&args[0]), server_pid(args));
    let number = |i: usize, default: usize| number_or(args, i, default);
    let (count, seconds, bytes) = (number(2, 5), number(3, 60), number(4, 900_000));
    let before = rss_kib(pid);
    let started = Instant::now();
    let mut readers: Vec<_> = (0..count).filter_map(|_| NonReader::join(addr)).collect();
    let scenario = paced_messages(seconds, bytes);
    let (report, peak) = std::thread::scope(|scope| {
        let run = scope.spawn(|| LiveServer::new(addr).run(&scenario, 1));
        let mut peak = before;
        while !run.is_finished() {
            peak = peak.max(rss_kib(pid));
            for reader in &mut readers {
                reader.probe(started);
            }
            std::thread::sleep(PROBE_EVERY);
        }
        (run.join().expect("the clients' thread"), peak)
    });
    let report = report.expect("a fault-free scenario");
    let dropped: Vec<String> = readers
        .iter()
        .map(|r| {
            r.dropped_after
                .map_or("kept".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
        })
        .collect();
    println!(
        "slow-readers: {} WebSocket clients that never read, one {bytes} B chat message a second for {seconds} s: dropped after [{}]; server RSS {:.1} -> peak {:.1} MiB (+{:.1}); {} failed expectations, {:.1} s",
        readers.len(),
        dropped.join(", "),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0,
        report.failures.len(),
        started.elapsed().as_secs_f64(),
    );
}

/// How often a non-reading client checks that it is still connected.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// A WebSocket client that joined the main namespace and reads nothing more.
struct NonReader {
    stream: TcpStream,
    dropped_after: Option<Duration>,
}

impl NonReader {
    /// The WebSocket handshake and a `40`, raw; reads only the 101's head.
    fn join(addr: SocketAddr) -> Option<Self> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).ok()?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
        let upgrade = format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(upgrade.as_bytes()).ok()?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).ok()?;
            head.push(byte[0]);
        }
        if !head.starts_with(b"HTTP/1.1 101") {
            return None;
        }
        stream.write_all(&masked_frame(0x1, b"40")).ok()?;
        Some(Self {
            stream,
            dropped_after: None,
        })
    }

    /// A WebSocket ping frame: it fails once the server has closed.
    fn probe(&mut self, started: Instant) {
        if self.dropped_after.is_none() && self.stream.write_all(&masked_frame(0x9, b"")).is_err() {
            self.dropped_after = Some(started.elapsed());
        }
    }
}

/// A client-to-server WebSocket frame (FIN set, a zero mask key), for
/// payloads under 126 bytes.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

/// One WebSocket client that sends a chat message of `bytes` bytes every
/// second for `seconds` seconds, each acked.
fn paced_messages(seconds: usize, bytes: usize) -> Scenario {
    let mut sender = ClientScript::new("chatty").connect(Transport::Websocket);
    for m in 0..seconds {
        let text = format!("{m}:{}", "x".repeat(bytes.saturating_sub(8)));
        sender = sender
            .request("chat message", vec![json!(text)], 15_000)
            .wait_ms(1_000);
    }
    Scenario::new("slow-readers")
        .duration_ms(seconds as u64 * 1_000 + 60_000)
        .client(sender.step(Step::Drop))
}

/// One WebSocket client that sends `messages` chat messages of `bytes`
/// bytes, each acked.
fn large_messages(messages: usize, bytes: usize) -> Scenario {
    let mut sender = ClientScript::new("sender").connect(Transport::Websocket);
    for m in 0..messages {
        let text = format!("{m}:{}", "x".repeat(bytes.saturating_sub(8)));
        sender = sender.request("chat message", vec![json!(text)], 15_000);
    }
    Scenario::new("amplification")
        .duration_ms(60_000)
        .client(sender.step(Step::Drop))
}

/// Opens `count` long-polling sessions that join the main namespace and
/// then never poll: a handshake GET and a POST of `40` each, nothing more.
/// Each session's messages stay queued at the server until its heartbeat
/// gives up on it.
fn open_idle_sessions(addr: SocketAddr, count: usize) -> usize {
    (0..count)
        .filter(|_| {
            handshake_sid(addr).is_some_and(|sid| {
                http(addr, "POST", &format!("&sid={sid}"), "40").contains(" 200 ")
            })
        })
        .count()
}

/// Whether the server let go of this nonblocking connection: closed it,
/// reset it, or answered on it.
fn let_go(mut stream: &TcpStream) -> bool {
    let mut buffer = [0u8; 256];
    match stream.read(&mut buffer) {
        Ok(0) => true,
        Ok(answered) => answered > 0,
        Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// A new long-polling session's id, if the server opens one.
fn handshake_sid(addr: SocketAddr) -> Option<String> {
    let open = http(addr, "GET", "", "");
    open.split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// Whether a new client's handshake is answered within `within`.
fn handshake_within(addr: SocketAddr, within: Duration) -> bool {
    http_within(addr, "GET", "", "", within).contains("\"sid\":\"")
}

/// One HTTP/1.1 request to the Engine.IO endpoint on its own connection:
/// the whole response as text ("" on any error).
fn http(addr: SocketAddr, method: &str, query: &str, body: &str) -> String {
    http_within(addr, method, query, body, IO_TIMEOUT)
}

/// [`http`] with each connect and read bounded by `within`.
fn http_within(
    addr: SocketAddr,
    method: &str,
    query: &str,
    body: &str,
    within: Duration,
) -> String {
    let request = format!(
        "{method} /socket.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let exchange = || -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, within)?;
        stream.set_read_timeout(Some(within))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    };
    exchange().unwrap_or_default()
}

/// Bound on each raw request's connect and read.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A case's second argument: the server's process id.
fn server_pid(args: &[String]) -> u32 {
    args[1].parse().expect("a server pid")
}

/// A case's argument `i` as a number, or `default` when not given.
fn number_or(args: &[String], i: usize, default: usize) -> usize {
    args.get(i)
        .map_or(default, |v| v.parse().expect("a number"))
}

fn socket_addr(url: &str) -> SocketAddr {
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    host.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("{url}: not http://HOST:PORT"))
}

/// The process's resident set, in KiB (0 once it is gone).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
