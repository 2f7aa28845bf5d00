//! The same scenario and invariant against the app served on real TCP, as
//! a crate would check the server it runs: `LiveServer` plays the script
//! over loopback and the custom invariant judges the trace. A live
//! server's schedule is not the harness's, so the race is counted over
//! runs (`LiveServer::reproduce`) instead of replayed by seed.

use std::net::SocketAddr;

use presence_example::{app, racy_app};
use siosim_harness::{Invariant, LiveServer};

use crate::everyone_meets::{EVERYONE_MEETS, everyone_meets};
use crate::races::joining_at_once;

/// Runs of the scenario each test makes.
const RUNS: usize = 20;

/// Serves `app` on a loopback port from a thread of its own; the server
/// lives as long as the test process.
fn serve(app: fn() -> axum::Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    listener.set_nonblocking(true).expect("non-blocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app()).await.expect("serving");
        });
    });
    addr
}

fn runs_breaking_everyone_meets(app: fn() -> axum::Router) -> usize {
    let server = LiveServer::new(serve(app));
    let invariant = everyone_meets();
    let judges: [&dyn Invariant; 1] = [&invariant];
    let runs = server
        .reproduce(&joining_at_once(), 0, &judges, RUNS, |v| {
            v.broke(EVERYONE_MEETS)
        })
        .expect("a scenario without faults runs live");
    eprintln!("{runs}");
    runs.failed
}

#[test]
fn the_correct_app_keeps_the_invariant_over_tcp() {
    assert_eq!(runs_breaking_everyone_meets(app), 0);
}

#[test]
fn the_racy_app_breaks_it_over_tcp() {
    assert!(
        runs_breaking_everyone_meets(racy_app) > 0,
        "no race in {RUNS} runs"
    );
}
