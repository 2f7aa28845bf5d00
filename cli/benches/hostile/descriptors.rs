//! `descriptors`: more idle connections than the server's process may hold
//! descriptors (run the server under `ulimit -n 1024`). A client connected
//! before them keeps asking `increase count` every second; a fresh client
//! tries a handshake every second. After a while the idle connections go
//! away, and the server should answer new clients again.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use siosim_harness::{ClientScript, LiveServer, Scenario, Step, Transport};

use crate::{handshake_within, let_go, number_or, rss_kib, server_pid, socket_addr};

/// How long a handshake probe may take to count as answered, and how long
/// an idle connection's connect may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the server is watched after the idle connections are gone.
const RECOVERY_SECONDS: usize = 15;

pub fn run(args: &[String]) {
    let (addr, pid) = (socket_addr(&args[0]), server_pid(args));
    let number = |i: usize, default: usize| number_or(args, i, default);
    let (idle, seconds) = (number(2, 1_500), number(3, 30));
    let asks = seconds + RECOVERY_SECONDS + 5;
    let scenario = counting_client(asks);
    std::thread::scope(|scope| {
        let connected = scope.spawn(|| LiveServer::new(addr).run(&scenario, 1));
        // The counting client connects first.
        std::thread::sleep(Duration::from_secs(2));
        let started = Instant::now();
        let mut held = hold_idle_connections(addr, idle);
        let opened = held.len();
        let during = probe_each_second(addr, seconds);
        let cut = held.iter().filter(|s| let_go(s)).count();
        held.clear();
        let after = probe_each_second(addr, RECOVERY_SECONDS);
        let report = connected
            .join()
            .expect("the counting client's thread")
            .expect("a fault-free scenario");
        println!(
            "descriptors: server's open-files limit {}; {opened}/{idle} idle connections held {seconds} s ({cut} closed by the server); new handshakes answered {}/{seconds} while held, {}/{RECOVERY_SECONDS} after (first at +{} s); the client connected before: {} of {asks} acked `increase count`s failed; {:.1} s, server RSS {:.1} MiB",
            open_files_limit(pid),
            during.iter().filter(|ok| **ok).count(),
            after.iter().filter(|ok| **ok).count(),
            after
                .iter()
                .position(|ok| *ok)
                .map_or("never".to_owned(), |s| s.to_string()),
            report.failures.len(),
            started.elapsed().as_secs_f64(),
            rss_kib(pid) as f64 / 1024.0,
        );
    });
}

/// Opens up to `count` connections that send nothing, until that many are
/// open or [`GIVE_UP_AFTER`] connects in a row time out (the server's
/// accept backlog is full: it holds no more).
fn hold_idle_connections(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    let mut timed_out_in_a_row = 0;
    while held.len() < count && timed_out_in_a_row < GIVE_UP_AFTER {
        match TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) {
            Ok(stream) => {
                let _ = stream.set_nonblocking(true);
                held.push(stream);
                timed_out_in_a_row = 0;
            }
            Err(_) => timed_out_in_a_row += 1,
        }
    }
    held
}

/// Connects in a row that time out before the idle connections stop.
const GIVE_UP_AFTER: usize = 3;

/// A handshake attempt a second for `seconds` seconds: which were answered.
fn probe_each_second(addr: SocketAddr, seconds: usize) -> Vec<bool> {
    let started = Instant::now();
    (0..seconds)
        .map(|second| {
            let ok = handshake_within(addr, PROBE_TIMEOUT);
            let next = started + Duration::from_secs(second as u64 + 1);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            ok
        })
        .collect()
}

/// One WebSocket client asking `increase count` (acked within 2 s) once a
/// second, `asks` times.
fn counting_client(asks: usize) -> Scenario {
    let mut client = ClientScript::new("counting").connect(Transport::Websocket);
    for _ in 0..asks {
        client = client
            .request("increase count", vec![], 2_000)
            .wait_ms(1_000);
    }
    Scenario::new("descriptors")
        .duration_ms(asks as u64 * 3_000 + 30_000)
        .client(client.step(Step::Drop))
}

/// "Max open files" soft limit of process `pid`.
fn open_files_limit(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}
