//! `siosim serve --server <name>` over real TCP: a racy variant is served
//! and behaves as that variant, the reference stays correct, and an unknown
//! name is a usage error naming every server.

use std::time::Instant;

use siosim::exit_code::Exit;

use crate::cli::siosim;
use crate::served::{DEADLINE, Served};

/// Increments sent in one long-polling payload: the server decodes them
/// together, so every handler starts within the lost-update variant's store
/// latency of the others, and a lost increment is as good as certain.
const INCREMENTS: usize = 10;

/// A long-polling Socket.IO client of [`Served`], joined to `/`.
struct Polling<'a> {
    served: &'a Served,
    target: String,
}

impl<'a> Polling<'a> {
    /// Opens a session and joins `/`, waiting for the server's CONNECT:
    /// a client may emit only once it is connected.
    fn join(served: &'a Served) -> Self {
        let (status, open) = served.http("GET", "/socket.io/?EIO=4&transport=polling", "");
        assert_eq!(status, 200, "{open}");
        let open: serde_json::Value =
            serde_json::from_str(open.strip_prefix('0').expect("an OPEN packet")).expect("JSON");
        let sid = open["sid"].as_str().expect("a sid");
        let polling = Self {
            served,
            target: format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        };
        polling.post("40");
        polling.receive_until(|packet| packet.starts_with("40{"));
        polling
    }

    fn post(&self, payload: &str) {
        let (status, body) = self.served.http("POST", &self.target, payload);
        assert_eq!((status, body.as_str()), (200, "ok"));
    }

    /// Polls, answering pings, until `enough` says the packets received so
    /// far suffice; returns them all.
    fn receive_until(&self, mut enough: impl FnMut(&str) -> bool) -> Vec<String> {
        let started = Instant::now();
        let mut received = Vec::new();
        loop {
            assert!(
                started.elapsed() < DEADLINE,
                "received so far: {received:?}"
            );
            let (status, payload) = self.served.http("GET", &self.target, "");
            assert_eq!(status, 200, "{payload}");
            let mut done = false;
            for packet in payload.split('\x1e') {
                if packet == "2" {
                    self.post("3");
                }
                done |= enough(packet);
                received.push(packet.to_owned());
            }
            if done {
                return received;
            }
        }
    }
}

/// Sends [`INCREMENTS`] acked `increase count`s in one long-polling payload
/// and returns the counts they were acked with, sorted.
fn acked_counts(served: &Served) -> Vec<u64> {
    let client = Polling::join(served);
    let increments: Vec<String> = (1..=INCREMENTS)
        .map(|id| format!("42{id}[\"increase count\"]"))
        .collect();
    client.post(&increments.join("\x1e"));
    let mut acks = 0;
    let received = client.receive_until(|packet| {
        acks += usize::from(packet.starts_with("43"));
        acks == INCREMENTS
    });
    let mut counts: Vec<u64> = received
        .iter()
        .filter_map(|packet| packet.strip_prefix("43"))
        .map(|ack| {
            let args = &ack[ack.find('[').expect("ack arguments")..];
            let args: Vec<u64> = serde_json::from_str(args).expect("a count");
            args[0]
        })
        .collect();
    counts.sort_unstable();
    counts
}

#[test]
fn serve_lost_update_loses_an_increment_over_tcp_and_the_reference_does_not() {
    let reference = Served::start("reference");
    let every_count: Vec<u64> = (1..=INCREMENTS as u64).collect();
    assert_eq!(acked_counts(&reference), every_count);

    let variant = Served::start("lost-update");
    let mut counts = acked_counts(&variant);
    counts.dedup();
    assert!(
        counts.len() < INCREMENTS,
        "lost-update acked {INCREMENTS} distinct counts: {counts:?}"
    );
}

#[test]
fn serve_an_unknown_server_is_a_usage_error_naming_every_server() {
    let (code, _, stderr) = siosim(&["serve", "--server", "no-such-server", "--port", "0"]);
    assert_eq!(code, Exit::Usage.code() as i32, "{stderr}");
    for name in siosim::run::server_names() {
        assert!(stderr.contains(name), "{stderr}");
    }
}
