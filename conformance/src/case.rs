//! A conformance case: what it checks, how strictly, where the rule is
//! written, and the one body that runs against any [`Target`](crate::Target).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use crate::case_error::CaseError;
use crate::probe::Probe;
use serde::Serialize;

/// How a broken rule is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// The spec says MUST (or the contract has no room): a miss is FAILED.
    Must,
    /// The spec says SHOULD, or common servers differ: a miss is NON-STRICT.
    Should,
    /// Records what the server does without judging it.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
            Severity::Info => "INFO",
        })
    }
}

/// The contract a case needs the server to implement; a server declares the
/// ones it claims with `--profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Any Engine.IO v4 / Socket.IO v5 server.
    Protocol,
    /// The official test suites' test server (`auth`, `message-back`,
    /// `message-with-ack`, the `/custom` namespace).
    Echo,
    /// siosim's seed app (README, "The seed-app contract").
    App,
    /// Hostile clients: a server's heartbeat, limits and session ids under
    /// a client that floods, stops reading or borrows an id (README,
    /// "Robustness profile"). Opt-in over TCP: it loads the server.
    Robustness,
    /// The seed app as a cluster of nodes sharing an adapter (README,
    /// "Cluster profile"): what a socket on one node sees of another's.
    /// Needs two nodes: `--url A --url B`, or a simulated cluster.
    Cluster,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Protocol,
        Profile::Echo,
        Profile::App,
        Profile::Robustness,
        Profile::Cluster,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Protocol => "protocol",
            Profile::Echo => "echo",
            Profile::App => "app",
            Profile::Robustness => "robustness",
            Profile::Cluster => "cluster",
        }
    }
}

/// The document a rule is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Spec {
    /// socketio/engine.io-protocol, v4.
    EngineIo,
    /// socketio/socket.io-protocol, v5.
    SocketIo,
    /// The official test suites' test-server contract.
    TestSuite,
    /// siosim's README, "The seed-app contract".
    SeedApp,
    /// siosim's README, "Robustness profile": what no spec says but every
    /// server facing the internet needs.
    Robustness,
}

impl Spec {
    pub fn title(self) -> &'static str {
        match self {
            Spec::EngineIo => "Engine.IO protocol v4",
            Spec::SocketIo => "Socket.IO protocol v5",
            Spec::TestSuite => "socket.io-protocol test suite",
            Spec::SeedApp => "siosim seed-app contract",
            Spec::Robustness => "siosim robustness rules",
        }
    }

    fn base_url(self) -> &'static str {
        match self {
            Spec::EngineIo => "https://github.com/socketio/engine.io-protocol",
            Spec::SocketIo | Spec::TestSuite => "https://github.com/socketio/socket.io-protocol",
            Spec::SeedApp | Spec::Robustness => "README.md",
        }
    }
}

/// The clause a case checks: the document, the section heading, and what it
/// says, quoted or closely paraphrased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clause {
    pub spec: Spec,
    /// The section heading, as written in the document.
    pub section: &'static str,
    /// The rule.
    pub rule: &'static str,
}

impl Clause {
    /// A link to the section (GitHub's heading anchors).
    pub fn url(&self) -> String {
        let anchor: String = self
            .section
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
                ' ' => Some('-'),
                _ => None,
            })
            .collect();
        format!("{}#{anchor}", self.spec.base_url())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, \"{}\": {}",
            self.spec.title(),
            self.section,
            self.rule
        )
    }
}

/// What a case body returns: on success, what it observed (the verdict's
/// reason for INFO cases, a note otherwise).
pub type CaseOutcome = Result<String, CaseError>;

/// A boxed case body, on the probe's single-threaded runtime.
pub type CaseFuture = Pin<Box<dyn Future<Output = CaseOutcome>>>;

/// A case body: one async function, whatever the target.
pub type CaseBody = fn(Probe) -> CaseFuture;

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Hierarchical, `family::topic::...::rule`, e.g.
    /// `engineio::handshake::polling::rejects_invalid_eio`.
    pub name: &'static str,
    pub severity: Severity,
    pub profile: Profile,
    pub clause: Clause,
    pub body: CaseBody,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("severity", &self.severity)
            .field("profile", &self.profile)
            .finish()
    }
}

impl Case {
    /// The first segment of the name: `engineio`, `socketio`, `app`, `faults`.
    pub fn family(&self) -> &'static str {
        self.name.split("::").next().unwrap_or(self.name)
    }
}

/// Fails the case with a formatted reason.
#[macro_export]
macro_rules! broken {
    ($($arg:tt)*) => {
        return Err($crate::CaseError::Broken(format!($($arg)*)))
    };
}

/// Fails the case with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::broken!($($arg)*);
        }
    };
}

/// Builds a [`Case`] from an `async fn(Probe) -> CaseOutcome`.
#[macro_export]
macro_rules! case {
    ($name:literal, $severity:ident, $profile:ident, $clause:expr, $body:path) => {
        $crate::Case {
            name: $name,
            severity: $crate::Severity::$severity,
            profile: $crate::Profile::$profile,
            clause: $clause,
            body: |probe| Box::pin($body(probe)),
        }
    };
}
