//! `slowloris`: connections that hold the server while costing the client
//! nothing. Half send a request head one byte a second and never finish it,
//! a quarter send nothing at all, a quarter send a polling POST's head and
//! then its body one byte a second. Each is watched for the server closing
//! (or answering) it; meanwhile a fresh client tries an Engine.IO handshake
//! every second, which a server that holds up keeps answering.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::{
    IO_TIMEOUT, handshake_sid, handshake_within, let_go, number_or, rss_kib, server_pid,
    socket_addr,
};

/// How long a handshake probe may take to count as answered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SlowHead,
    Idle,
    SlowBody,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::SlowHead, Kind::Idle, Kind::SlowBody];

    fn name(self) -> &'static str {
        match self {
            Kind::SlowHead => "slow heads",
            Kind::Idle => "idle",
            Kind::SlowBody => "slow bodies",
        }
    }
}

/// One slow connection and when the server let go of it.
struct Trickler {
    kind: Kind,
    stream: TcpStream,
    cut_after: Option<Duration>,
}

impl Trickler {
    fn open(addr: SocketAddr, kind: Kind) -> Option<Self> {
        let opening = match kind {
            Kind::SlowHead => format!(
                "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {addr}\r\nX-Slow: "
            ),
            Kind::Idle => String::new(),
            Kind::SlowBody => format!(
                "POST /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 4096\r\n\r\n",
                handshake_sid(addr)?
            ),
        };
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).ok()?;
        stream.write_all(opening.as_bytes()).ok()?;
        stream.set_nonblocking(true).ok()?;
        Some(Self {
            kind,
            stream,
            cut_after: None,
        })
    }

    /// One more byte (none for an idle one); notes when the server closed
    /// or answered.
    fn tick(&mut self, started: Instant) {
        if self.cut_after.is_some() {
            return;
        }
        let byte: &[u8] = match self.kind {
            Kind::SlowHead => b"a",
            Kind::Idle => b"",
            Kind::SlowBody => b"4",
        };
        let wrote = self.stream.write_all(byte);
        if wrote.is_err() || let_go(&self.stream) {
            self.cut_after = Some(started.elapsed());
        }
    }
}

pub fn run(args: &[String]) {
    let (addr, pid) = (socket_addr(&args[0]), server_pid(args));
    let number = |i: usize, default: usize| number_or(args, i, default);
    let (connections, seconds) = (number(2, 2_000), number(3, 75));
    let before = rss_kib(pid);
    let started = Instant::now();
    let kinds = (0..connections).map(|i| match i % 4 {
        0 | 1 => Kind::SlowHead,
        2 => Kind::Idle,
        _ => Kind::SlowBody,
    });
    let mut tricklers: Vec<Trickler> = kinds
        .filter_map(|kind| Trickler::open(addr, kind))
        .collect();
    let opened_in = started.elapsed();
    let mut peak = before;
    let mut answered = 0;
    for second in 0..seconds {
        for trickler in &mut tricklers {
            trickler.tick(started);
        }
        answered += usize::from(handshake_within(addr, PROBE_TIMEOUT));
        peak = peak.max(rss_kib(pid));
        let next = started + Duration::from_secs(second as u64 + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let per_kind: Vec<String> = Kind::ALL
        .iter()
        .map(|kind| cut_summary(*kind, &tricklers))
        .collect();
    println!(
        "slowloris: {} of {connections} connections opened in {:.1} s, one byte a second for {seconds} s; cut by the server: {}; new handshakes answered {answered}/{seconds}; server RSS {:.1} -> peak {:.1} MiB",
        tricklers.len(),
        opened_in.as_secs_f64(),
        per_kind.join(", "),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
}

/// "slow heads 1000/1000 (median 10.0 s, max 10.4 s)".
fn cut_summary(kind: Kind, tricklers: &[Trickler]) -> String {
    let of_kind: Vec<&Trickler> = tricklers.iter().filter(|t| t.kind == kind).collect();
    let mut cut: Vec<Duration> = of_kind.iter().filter_map(|t| t.cut_after).collect();
    cut.sort();
    let timing = match (cut.get(cut.len() / 2), cut.last()) {
        (Some(median), Some(max)) => format!(
            " (median {:.1} s, max {:.1} s)",
            median.as_secs_f64(),
            max.as_secs_f64()
        ),
        _ => String::new(),
    };
    format!("{} {}/{}{timing}", kind.name(), cut.len(), of_kind.len())
}
