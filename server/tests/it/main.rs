//! End-to-end tests of the seed app over real loopback TCP, with the
//! official socket.io-client (Node) and a real browser (Chromium) as clients.

mod support;

mod browser;
mod chat;
mod counter;
mod echo;
mod engine_config;
mod http_limits;
mod lifecycle;
mod page;
mod plain_ws;
mod rooms;
mod session_ids;
mod things;
