//! `app::*`: siosim's seed-app contract (README.md, "The seed-app
//! contract"): every row of its Socket.IO events table, its ordering
//! paragraph, its HTTP routes table and what a client can see of its
//! configuration. Profile `app`: only a server implementing that contract
//! claims it.
//!
//! Over TCP a live server's state is shared with whatever else uses it: the
//! cases compare counter values before and after, name rooms and things
//! after their socket's sid, and delete the things they create.

mod chat;
mod client;
mod cluster;
mod configuration;
mod counter;
mod kick;
mod ordering;
mod page;
mod plain_ws;
mod rooms;
mod things;
mod transports;

use crate::case::Case;

/// The family, in report order.
pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(counter::cases());
    cases.extend(chat::cases());
    cases.extend(rooms::cases());
    cases.extend(kick::cases());
    cases.extend(things::cases());
    cases.extend(ordering::cases());
    cases.extend(transports::cases());
    cases.extend(page::cases());
    cases.extend(plain_ws::cases());
    cases.extend(configuration::cases());
    cases.extend(cluster::cases());
    cases
}
