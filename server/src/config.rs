//! The server's knobs. One struct serves both library callers (through
//! `Default`) and the command line (through `clap::Args`, so a binary can
//! `#[command(flatten)]` it). Each default is a named constant used by both,
//! so the two can never disagree.

use std::time::Duration;

const DEFAULT_SOCKETIO_PATH: &str = "/socket.io";
const DEFAULT_PING_INTERVAL_MS: u64 = 25_000;
const DEFAULT_PING_TIMEOUT_MS: u64 = 20_000;
const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 45_000;
const DEFAULT_MAX_PAYLOAD_BYTES: u64 = 1_000_000;
const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 3000;

/// How the seed app listens and how its Socket.IO engine behaves.
///
/// The defaults are Socket.IO's own (ping 25 s / 20 s, connect timeout 45 s,
/// `maxHttpBufferSize` 1 MB), so an unconfigured server behaves like the
/// tutorial's Node server.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Config {
    /// HTTP path the Socket.IO endpoint answers on (the client's `path` option).
    #[arg(long = "path", default_value = DEFAULT_SOCKETIO_PATH, value_parser = parse_socketio_path)]
    pub socketio_path: String,

    /// Milliseconds between the server's Engine.IO pings.
    #[arg(long, default_value_t = DEFAULT_PING_INTERVAL_MS)]
    pub ping_interval_ms: u64,

    /// Milliseconds the server waits for a pong before dropping the client.
    #[arg(long, default_value_t = DEFAULT_PING_TIMEOUT_MS)]
    pub ping_timeout_ms: u64,

    /// Milliseconds a client has, after the Engine.IO handshake, to join a namespace.
    #[arg(long, default_value_t = DEFAULT_CONNECT_TIMEOUT_MS)]
    pub connect_timeout_ms: u64,

    /// Largest Engine.IO payload accepted, in bytes (one HTTP long-polling
    /// body, or one WebSocket message).
    #[arg(long, default_value_t = DEFAULT_MAX_PAYLOAD_BYTES)]
    pub max_payload_bytes: u64,

    /// Milliseconds a client has to send a request's headers (and how long
    /// an idle keep-alive connection is kept), when the server runs its own
    /// HTTP loop (`serve`, `siosim serve`).
    #[arg(long, default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's whole body, when the
    /// server runs its own HTTP loop.
    #[arg(long, default_value_t = DEFAULT_BODY_TIMEOUT_MS)]
    pub body_timeout_ms: u64,
    /// Most connections served at once, when the server runs its own HTTP
    /// loop; by default the process's descriptor limit less 64.
    #[arg(long)]
    pub connection_limit: Option<usize>,
    /// Address to bind when the caller lets the server pick its own listener.
    #[arg(long, default_value = DEFAULT_HOST)]
    pub host: String,

    /// Port to bind when the caller lets the server pick its own listener.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            socketio_path: DEFAULT_SOCKETIO_PATH.to_owned(),
            ping_interval_ms: DEFAULT_PING_INTERVAL_MS,
            ping_timeout_ms: DEFAULT_PING_TIMEOUT_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            connection_limit: None,
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
        }
    }
}

impl Config {
    /// socketioxide configured as this says: path, heartbeat, connect
    /// timeout and payload limit, the same for a lone server and a cluster
    /// node.
    pub(crate) fn socketio_builder(&self) -> socketioxide::SocketIoBuilder {
        let max_payload = usize::try_from(self.max_payload_bytes).unwrap_or(usize::MAX);
        socketioxide::SocketIo::builder()
            .req_path(self.socketio_path.clone())
            .ping_interval(self.ping_interval())
            .ping_timeout(self.ping_timeout())
            .connect_timeout(self.connect_timeout())
            .max_payload(self.max_payload_bytes)
            // Socket.IO's maxHttpBufferSize bounds WebSocket messages too;
            // keep both transports to the same limit so they behave alike.
            .ws_max_message_size(max_payload)
            // And a frame over it is refused from its header, not read whole
            // first (tungstenite's default frame limit is 16 MiB).
            .ws_max_frame_size(max_payload)
    }

    pub(crate) fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    pub(crate) fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The HTTP loop's limits. A write stalled for a ping timeout means a
    /// client that could not have answered a ping either.
    pub(crate) fn http_limits(&self) -> crate::http_server::Limits {
        crate::http_server::Limits {
            header_read: Duration::from_millis(self.header_timeout_ms),
            body_read: Duration::from_millis(self.body_timeout_ms),
            write_stall: self.ping_timeout(),
            max_connections: self
                .connection_limit
                .unwrap_or_else(crate::http_server::connections_the_process_can_hold),
        }
    }
}

/// The Socket.IO path is matched as a URL path prefix, so anything not
/// starting with `/` could never match a request: refuse it up front rather
/// than serve an unreachable endpoint.
fn parse_socketio_path(raw: &str) -> Result<String, String> {
    if raw.starts_with('/') {
        Ok(raw.to_owned())
    } else {
        Err(format!("must start with '/', got {raw:?}"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// A stand-in for a binary that flattens `Config` into its command line.
    #[derive(Debug, clap::Parser)]
    struct DefaultsOnly {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn defaults_match_socket_io_and_the_command_line() {
        let config = Config::default();
        let from_cli = DefaultsOnly::try_parse_from(["x"]).expect("no flags needed");
        assert_eq!(from_cli.config, config);
        assert_eq!(
            config,
            Config {
                socketio_path: "/socket.io".into(),
                ping_interval_ms: 25_000,
                ping_timeout_ms: 20_000,
                connect_timeout_ms: 45_000,
                max_payload_bytes: 1_000_000,
                header_timeout_ms: 10_000,
                body_timeout_ms: 30_000,
                connection_limit: None,
                host: "127.0.0.1".into(),
                port: 3000,
            }
        );
    }

    #[test]
    fn flags_override_defaults() {
        let parsed = DefaultsOnly::try_parse_from([
            "x",
            "--path",
            "/socket.io-client",
            "--ping-interval-ms",
            "100",
            "--ping-timeout-ms",
            "200",
            "--connect-timeout-ms",
            "300",
            "--max-payload-bytes",
            "400",
            "--header-timeout-ms",
            "500",
            "--body-timeout-ms",
            "600",
            "--connection-limit",
            "700",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ])
        .expect("valid flags");
        assert_eq!(
            parsed.config,
            Config {
                socketio_path: "/socket.io-client".into(),
                ping_interval_ms: 100,
                ping_timeout_ms: 200,
                connect_timeout_ms: 300,
                max_payload_bytes: 400,
                header_timeout_ms: 500,
                body_timeout_ms: 600,
                connection_limit: Some(700),
                host: "0.0.0.0".into(),
                port: 0,
            }
        );
    }

    #[test]
    fn path_must_be_absolute() {
        assert!(DefaultsOnly::try_parse_from(["x", "--path", "socket.io"]).is_err());
    }
}
