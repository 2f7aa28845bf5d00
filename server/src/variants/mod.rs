//! Deliberately racy variants of the seed app, for proving that seed
//! exploration finds real races. Each is the reference app with exactly one
//! realistic concurrency bug, one that the seed-app contract (README.md)
//! forbids and that shows only under some schedules: a slow await in a
//! handler that lets another client's event slip in between.
//!
//! A variant reuses every reference handler but one, which it swaps when a
//! socket connects. Its "store" is a fixed await on tokio's clock, simulated
//! time under turmoil and real time on a socket.
//!
//! Built only with the `racy` feature.

mod early_room_emit;
mod faulty;
mod lost_update;
mod slow_disconnect;
mod spawned_chat;

use std::time::Duration;

use axum::Router;

use crate::lifecycle::Rewire;
use crate::{Config, Server};

/// The racy variants' names, for `--server`.
pub const NAMES: &[&str] = &[
    "lost-update",
    "early-room-emit",
    "slow-disconnect",
    "spawned-chat",
];

/// Variants that abort, overflow their stack or hang on some seeds: not
/// races, so not in [`NAMES`]; for proving that a campaign survives them.
pub const FAULTY: &[&str] = &["aborts", "overflows-stack", "hangs"];

/// The named variant's app, or None for an unknown name.
pub fn app(name: &str, config: &Config) -> Option<Router> {
    server(name, config).map(Server::into_router)
}

/// The named variant with its shutdown handles, to serve over real TCP
/// ([`Server::serve`]); None for an unknown name.
pub fn server(name: &str, config: &Config) -> Option<Server> {
    let rewire: Rewire = match name {
        "lost-update" => lost_update::rewire,
        "early-room-emit" => early_room_emit::rewire,
        "slow-disconnect" => slow_disconnect::rewire,
        "spawned-chat" => spawned_chat::rewire,
        "aborts" => faulty::rewire_abort,
        "overflows-stack" => faulty::rewire_overflow_stack,
        "hangs" => faulty::rewire_hang,
        _ => return None,
    };
    Some(crate::build(config, rewire))
}

/// A round trip to the variants' simulated store (or any remote service).
async fn store_round_trip(latency: Duration) {
    tokio::time::sleep(latency).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_and_others_do_not() {
        let config = Config::default();
        for name in NAMES.iter().chain(FAULTY) {
            assert!(app(name, &config).is_some(), "{name}");
        }
        assert!(app("reference", &config).is_none());
        assert!(app("", &config).is_none());
    }
}
