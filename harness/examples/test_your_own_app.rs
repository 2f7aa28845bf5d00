//! Testing your own socketioxide app with siosim, in simulated time.
//!
//! Your app is any `axum::Router`: hand the harness a function that builds
//! it, script some clients, and run a seed. The same seed replays the same
//! run byte for byte.
//!
//! ```text
//! cargo run -p siosim-harness --example test_your_own_app -- 7
//! ```

use serde_json::{Value, json};
use siosim_harness::{ClientScript, Scenario, Simulation, Transport};
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

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let scenario = Scenario::new("my app")
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
                .expect_event("shout", Some(vec![json!("hey all")]), 2_000)
                .disconnect(),
        );
    let report = Simulation::new(scenario, my_app).run(seed);
    print!("{report}");
    if !report.passed() {
        eprintln!("replay: cargo run -p siosim-harness --example test_your_own_app -- {seed}");
        std::process::exit(1);
    }
}
