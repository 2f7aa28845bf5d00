//! Testing your own socketioxide app with siosim: plain `#[test]` functions,
//! run by `cargo test`, the way a crate of yours would hold them in its
//! `tests/` directory.
//!
//! ```text
//! cargo test -p siosim-harness --example test_your_own_app
//! SIOSIM_SEED=7 cargo test -p siosim-harness --example test_your_own_app   # one seed
//! ```
//!
//! Your app is any `axum::Router`: hand the harness a function that builds
//! it, script some clients, add faults, and run seeds. The same seed replays
//! the same run byte for byte, so its trace can be an insta snapshot.
//!
//! The tests live in a `#[cfg(test)]` module only because this file is an
//! example target (built as a binary too); in your crate's `tests/` they are
//! top-level functions.

fn main() {
    eprintln!(
        "this example is a test file: cargo test -p siosim-harness --example test_your_own_app"
    );
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use siosim_harness::{ClientScript, Fault, Scenario, Simulation, Transport};
    use socketioxide::SocketIo;
    use socketioxide::extract::{AckSender, Data, SocketRef};

    /// Your app: an echo with acks, and a shout that reaches everyone else.
    fn my_app() -> axum::Router {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
                let _ = ack.send(&data);
            });
            socket.on("shout", async |socket: SocketRef, Data::<Value>(data)| {
                let _ = socket.broadcast().emit("shout", &data).await;
            });
        });
        axum::Router::new().layer(layer)
    }

    /// Alice echoes and then shouts; Bob, on long-polling, hears the shout.
    fn echo_and_shout() -> Scenario {
        Scenario::new("echo and shout")
            .client(
                ClientScript::new("alice")
                    .connect(Transport::Websocket)
                    .emit_with_ack("echo", vec![json!({"hello": "world"})])
                    .expect_ack(Some(vec![json!({"hello": "world"})]), 1_000)
                    .wait_ms(500)
                    .emit("shout", vec![json!("hey all")])
                    .expect_no_event("shout", 500)
                    .disconnect(),
            )
            .client(
                ClientScript::new("bob")
                    .connect(Transport::Polling)
                    .expect_event("shout", Some(vec![json!("hey all")]), 3_000)
                    .disconnect(),
            )
    }

    /// Every default seed (or `SIOSIM_SEED`) passes; a failure prints the trace
    /// and the command that replays it. The trace of the first is a snapshot
    /// (`examples/snapshots/`, reviewed with `cargo insta review`).
    #[test]
    fn echo_and_shout_passes_and_matches_its_snapshot() {
        let reports = Simulation::new(echo_and_shout(), my_app).assert_passes();
        insta::assert_snapshot!(reports[0].trace.to_string());
    }

    /// A fault from the schedule: Bob's link is held while Alice shouts, and
    /// the shout still reaches him once it is released.
    #[test]
    fn a_held_link_delays_the_shout_but_loses_nothing() {
        let held = echo_and_shout()
            .fault(
                300,
                Fault::Hold {
                    client: "bob".into(),
                },
            )
            .fault(
                1_500,
                Fault::Release {
                    client: "bob".into(),
                },
            );
        Simulation::new(held, my_app).assert_passes();
    }

    /// The determinism self-check: two runs of a seed, byte-identical traces.
    #[test]
    fn a_seed_replays_byte_for_byte() {
        Simulation::new(echo_and_shout(), my_app).assert_deterministic(7);
    }
}
