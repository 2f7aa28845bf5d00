//! `siosim serve` as a child process on an OS-chosen port: what the tests
//! of live servers (`serve --server`, `explore --url`) run against.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the served process may take to print its address, and a test's
/// whole conversation with it.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A `siosim serve` process on an OS-chosen port, killed when dropped.
pub struct Served {
    child: Child,
    pub port: u16,
}

impl Served {
    /// Its root URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(server: &str) -> Self {
        Self::with_flags(server, &[])
    }

    /// `siosim serve --server <server> --port 0 <flags>`.
    pub fn with_flags(server: &str, flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_siosim"))
            .args(["serve", "--server", server, "--port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("siosim serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (port_tx, port_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on http://") {
                    let port = address.rsplit(':').next().and_then(|p| p.parse().ok());
                    let _ = port_tx.send(port);
                }
            }
        });
        let mut served = Self { child, port: 0 };
        served.port = port_rx
            .recv_timeout(DEADLINE)
            .ok()
            .flatten()
            .expect("siosim serve prints the address it listens on");
        served
    }

    /// One HTTP/1.0 exchange (the connection closes after it): status and body.
    pub fn http(&self, method: &str, target: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
        write!(
            stream,
            "{method} {target} HTTP/1.0\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        (status, body.to_owned())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
