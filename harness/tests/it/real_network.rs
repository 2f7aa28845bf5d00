//! The same scripted client over real loopback TCP: what the conformance
//! suite will use against live servers.

use std::time::Duration;

use serde_json::json;
use siosim_harness::client::{Connector, Endpoint, SessionLimits, run_script};
use siosim_harness::trace::Recorder;
use siosim_harness::{ClientScript, EventKind, Transport};

use crate::echo_app::echo_app;

#[test]
fn the_scripted_client_speaks_to_a_real_server_over_every_transport() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, echo_app()).await });
        let endpoint = Endpoint {
            connector: Connector::Tcp {
                addr,
                connect_timeout: Duration::from_secs(5),
                headers: Vec::new().into(),
            },
            path: "/socket.io".into(),
            limits: SessionLimits::default(),
        };
        for transport in Transport::ALL {
            let recorder = Recorder::new();
            let script = ClientScript::new("alice")
                .connect(transport)
                .emit_with_ack("echo", vec![json!({"over": transport.name()})])
                .expect_ack(Some(vec![json!({"over": transport.name()})]), 5_000)
                .disconnect();
            let outcome = run_script(
                script,
                endpoint.clone(),
                recorder.clone(),
                tokio::time::Instant::now(),
            )
            .await;
            let trace = recorder.finish();
            assert_eq!(outcome.failure, None, "{trace}");
            assert_eq!(trace.of_kind(EventKind::Pass).count(), 1, "{trace}");
        }
    });
}
