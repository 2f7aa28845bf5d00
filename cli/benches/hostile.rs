//! What hostile clients cost a live server, measured from outside: the
//! server's resident memory (`/proc/<pid>/status`) while the clients run.
//! Prints figures, never asserts (`scripts/bench-hostile` runs it against
//! the reference server and Node socket.io side by side).
//!
//! ```text
//! cargo bench -p siosim --bench hostile -- amplification <url> <server pid> [idle clients] [messages] [bytes]
//! ```
//!
//! `amplification`: idle clients join over long-polling and never poll
//! again, then one WebSocket client sends large `chat message`s, which the
//! server must queue for every idle client until the heartbeat drops them.
//! A server that copies the payload per recipient grows by about
//! idle × messages × bytes; one that shares it, by about messages × bytes.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

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
        _ => {
            eprintln!(
                "usage: hostile amplification <url> <server pid> [idle clients] [messages] [bytes]"
            );
            std::process::exit(2);
        }
    }
}

fn amplification(args: &[String]) {
    let addr = socket_addr(&args[0]);
    let pid: u32 = args[1].parse().expect("a server pid");
    let number = |i: usize, default: usize| {
        args.get(i)
            .map_or(default, |v| v.parse().expect("a number"))
    };
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
            let open = http(addr, "GET", "", "");
            let Some(sid) = open
                .split("\"sid\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                return false;
            };
            http(addr, "POST", &format!("&sid={sid}"), "40").contains(" 200 ")
        })
        .count()
}

/// One HTTP/1.1 request to the Engine.IO endpoint on its own connection:
/// the whole response as text ("" on any error).
fn http(addr: SocketAddr, method: &str, query: &str, body: &str) -> String {
    let request = format!(
        "{method} /socket.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let exchange = || -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    };
    exchange().unwrap_or_default()
}

/// Bound on each raw request's connect and read.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

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
