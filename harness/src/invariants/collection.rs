//! A REST collection whose changes are pushed to every socket (the
//! reference app's `/api/things` with `thing:create` and `thing:destroy`):
//! clients change it with `POST {path}` and `DELETE {path}/{key}` and read it
//! with `GET {path}` ([`Step::Http`](crate::scenario::Step::Http)); the
//! server pushes each change as an event. You name the path and both events
//! in [`Collection::new`].
//!
//! - [`READ_AFTER_PUSH`]: a read lists every item whose create push any
//!   socket received before the read was sent, unless a delete of it was
//!   sent (or its destroy push received) before the read was answered; and
//!   it lists no item whose destroy push any socket received before the read
//!   was sent, unless a create of it that may have come later was sent
//!   before the read was answered.
//! - [`PUSH_PER_CHANGE`]: a socket receives an item's create and destroy
//!   pushes alternately (never two creates, or two destroys, of one item
//!   with nothing between); each push follows a request for that change
//!   that was not refused (a `4xx`); and each successful change (`2xx`)
//!   reaches every healthy socket that was connected before the request
//!   until [`PUSH_WINDOW_US`] after the answer.
//!
//! A client is sequential, so its `http` lines are request, answer, request,
//! …; a request with no answer (it timed out) may or may not have changed
//! anything, and is judged so. Items that existed before the run (a live
//! server's) need no create push; the checks assume the run's clients are
//! the only ones writing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::history::{History, SessionLog, Way};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;
use crate::trace::EventKind;

pub const READ_AFTER_PUSH: &str = "collection.read-after-push";
pub const PUSH_PER_CHANGE: &str = "collection.push-per-change";

/// How long after a change's answer a healthy socket may wait for its push.
pub const PUSH_WINDOW_US: u64 = 3_000_000;

/// The collection checks, for an app's REST path and its two push events.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection's path, e.g. `/api/things`.
    path: String,
    /// The event pushed on a create; its first argument is the item.
    created: String,
    /// The event pushed on a delete; its first argument is the item's key.
    destroyed: String,
    /// The item's field that is its key (and the last segment of its path).
    key: String,
}

impl Collection {
    /// The collection at `path` (e.g. `/api/things`), whose creates push
    /// `created` with the item (an object keyed by its `name` field, see
    /// [`Collection::key`]) and whose deletes push `destroyed` with the key.
    pub fn new(
        path: impl Into<String>,
        created: impl Into<String>,
        destroyed: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            created: created.into(),
            destroyed: destroyed.into(),
            key: "name".into(),
        }
    }

    /// The item's key field, if not `name`.
    pub fn key(mut self, field: impl Into<String>) -> Self {
        self.key = field.into();
        self
    }
}

impl Invariant for Collection {
    fn name(&self) -> &str {
        "collection"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let changes = Changes::of(self, history);
        let mut violations = Vec::new();
        violations.extend(changes.read_after_push(self, history));
        violations.extend(changes.push_per_change(self, history));
        violations
    }
}

/// What a request asked of the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Create,
    Destroy,
    Read,
}

impl Method {
    fn verb(self) -> &'static str {
        match self {
            Method::Create => "POST",
            Method::Destroy => "DELETE",
            Method::Read => "GET",
        }
    }
}

/// One request to the collection and its answer, from a client's `http` lines.
#[derive(Debug)]
struct Exchange {
    client: String,
    method: Method,
    /// The item a create or destroy is about: a create's from the created
    /// item it was answered with, else from its body; a destroy's from its path.
    key: Option<String>,
    request: usize,
    response: Option<usize>,
    status: Option<u16>,
    /// A read's keys, when it was answered with a JSON array.
    listed: Option<BTreeSet<String>>,
}

impl Exchange {
    /// Whether it may have changed the collection: it was not refused.
    fn may_have_changed(&self) -> bool {
        !self
            .status
            .is_some_and(|status| (400..500).contains(&status))
    }

    fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    fn is(&self, method: Method, key: &str) -> bool {
        self.method == method && self.key.as_deref() == Some(key)
    }
}

/// One push a socket received.
#[derive(Debug)]
struct Push {
    alias: String,
    event: usize,
    key: String,
    method: Method,
}

/// Everything the trace shows of the collection.
#[derive(Debug)]
struct Changes {
    /// In the order their requests were sent.
    exchanges: Vec<Exchange>,
    /// In trace order.
    pushes: Vec<Push>,
}

impl Changes {
    fn of(collection: &Collection, history: &History<'_>) -> Self {
        Self {
            exchanges: exchanges(collection, history),
            pushes: pushes(collection, history),
        }
    }

    fn pushed(&self, method: Method, key: &str) -> impl Iterator<Item = &Push> {
        self.pushes
            .iter()
            .filter(move |p| p.method == method && p.key == key)
    }

    fn asked(&self, method: Method, key: &str) -> impl Iterator<Item = &Exchange> {
        self.exchanges.iter().filter(move |e| e.is(method, key))
    }

    fn read_after_push(&self, collection: &Collection, history: &History<'_>) -> Option<Violation> {
        self.exchanges
            .iter()
            .filter(|read| read.method == Method::Read)
            .find_map(|read| {
                let (Some(answer), Some(listed)) = (read.response, read.listed.as_ref()) else {
                    return None;
                };
                self.missing(collection, history, read, answer, listed)
                    .or_else(|| self.stale(collection, history, read, answer, listed))
            })
    }

    /// An item `read` should list, by a create push received before it was
    /// sent, in the same server lifetime as its answer.
    fn missing(
        &self,
        collection: &Collection,
        history: &History<'_>,
        read: &Exchange,
        answer: usize,
        listed: &BTreeSet<String>,
    ) -> Option<Violation> {
        let lifetime = history.epoch_at(history.at_us(answer));
        let push = self.pushes.iter().find(|push| {
            push.method == Method::Create
                && push.event < read.request
                && !listed.contains(&push.key)
                && history.epoch_at(history.at_us(push.event)) == lifetime
                && !self
                    .asked(Method::Destroy, &push.key)
                    .any(|d| d.request < answer)
                && !self
                    .pushed(Method::Destroy, &push.key)
                    .any(|d| d.event < answer)
        })?;
        Some(Violation::new(
            READ_AFTER_PUSH,
            format!(
                "{}'s GET {} does not list {:?}, though {} had received its {} before the GET was sent and nobody deleted it",
                read.client, collection.path, push.key, push.alias, collection.created
            ),
            history.witnesses(&[push.event, read.request, answer]),
        ))
    }

    /// An item `read` lists though a destroy push of it was received before
    /// it was sent, and no create of it may have come after that destroy.
    fn stale(
        &self,
        collection: &Collection,
        history: &History<'_>,
        read: &Exchange,
        answer: usize,
        listed: &BTreeSet<String>,
    ) -> Option<Violation> {
        let push = self.pushes.iter().find(|push| {
            push.method == Method::Destroy
                && push.event < read.request
                && listed.contains(&push.key)
                && !self.recreated(&push.key, push.event, answer)
        })?;
        Some(Violation::new(
            READ_AFTER_PUSH,
            format!(
                "{}'s GET {} lists {:?}, though {} had received its {} before the GET was sent",
                read.client, collection.path, push.key, push.alias, collection.destroyed
            ),
            history.witnesses(&[push.event, read.request, answer]),
        ))
    }

    /// Whether `key` may have been created again after the destroy whose
    /// push arrived at `destroy_push`, by a create sent before `answer`: the
    /// destroy came from one of the unrefused deletes sent before its push,
    /// so a create answered before the first of them came before it.
    fn recreated(&self, key: &str, destroy_push: usize, answer: usize) -> bool {
        let first_delete = self
            .asked(Method::Destroy, key)
            .filter(|d| d.may_have_changed())
            .map(|d| d.request)
            .find(|&request| request < destroy_push);
        self.asked(Method::Create, key).any(|create| {
            create.may_have_changed()
                && create.request < answer
                && match (create.response, first_delete) {
                    (Some(created), Some(delete)) => created > delete,
                    _ => true,
                }
        })
    }

    fn push_per_change(&self, collection: &Collection, history: &History<'_>) -> Option<Violation> {
        history
            .sessions
            .values()
            .find_map(|session| self.alternation(collection, history, session))
            .or_else(|| self.uncaused(collection, history))
            .or_else(|| self.undelivered(collection, history))
    }

    /// Two pushes of one kind for one item on one socket, with no push of
    /// the other kind between.
    fn alternation(
        &self,
        collection: &Collection,
        history: &History<'_>,
        session: &SessionLog,
    ) -> Option<Violation> {
        // A CONNECT to `/` starts a new socket: the old one's pushes say
        // nothing of it.
        let joins: Vec<usize> = session
            .packets(Way::Sent)
            .filter(|p| p.sio.kind == SioPacketKind::Connect && p.sio.namespace == "/")
            .map(|p| p.event)
            .collect();
        let socket_of = |event: usize| joins.iter().filter(|&&join| join < event).count();
        let mut last: BTreeMap<(usize, &str), &Push> = BTreeMap::new();
        for push in self.pushes.iter().filter(|p| p.alias == session.alias) {
            let Some(before) = last.insert((socket_of(push.event), &push.key), push) else {
                continue;
            };
            if before.method == push.method {
                return Some(Violation::new(
                    PUSH_PER_CHANGE,
                    format!(
                        "{} received {} {:?} twice with no change between",
                        session.alias,
                        collection.event(push.method),
                        push.key
                    ),
                    history.witnesses(&[before.event, push.event]),
                ));
            }
        }
        None
    }

    /// A push no request that may have made that change preceded.
    fn uncaused(&self, collection: &Collection, history: &History<'_>) -> Option<Violation> {
        let push = self.pushes.iter().find(|push| {
            !self
                .asked(push.method, &push.key)
                .any(|change| change.may_have_changed() && change.request < push.event)
        })?;
        let mut witnesses = vec![push.event];
        witnesses.extend(self.asked(push.method, &push.key).map(|e| e.request));
        Some(Violation::new(
            PUSH_PER_CHANGE,
            format!(
                "{} received {} {:?}, but no {} of it that could have succeeded was sent before",
                push.alias,
                collection.event(push.method),
                push.key,
                push.method.verb()
            ),
            history.witnesses(&witnesses),
        ))
    }

    /// A successful change that a healthy socket, connected from before its
    /// request until [`PUSH_WINDOW_US`] after its answer, never received.
    fn undelivered(&self, collection: &Collection, history: &History<'_>) -> Option<Violation> {
        self.exchanges
            .iter()
            .filter(|e| e.method != Method::Read && e.succeeded())
            .find_map(|change| {
                let (Some(key), Some(answer)) = (change.key.as_deref(), change.response) else {
                    return None;
                };
                let deadline = history.at_us(answer).saturating_add(PUSH_WINDOW_US);
                let session = history.sessions.values().find(|session| {
                    connected_before(session, change.request)
                        && history.is_healthy(session)
                        && history.end_of(session) >= deadline
                        && session
                            .stopped_pings
                            .is_none_or(|stopped| history.at_us(stopped) >= deadline)
                        && !self
                            .pushed(change.method, key)
                            .any(|p| p.alias == session.alias && p.event > change.request)
                })?;
                Some(Violation::new(
                    PUSH_PER_CHANGE,
                    format!(
                        "{} never received {} {key:?}, though it was connected from before {}'s {} until {} ms after its answer",
                        session.alias,
                        collection.event(change.method),
                        change.client,
                        change.method.verb(),
                        PUSH_WINDOW_US / 1000
                    ),
                    history.witnesses(&[session.opened, change.request, answer]),
                ))
            })
    }
}

/// Whether the session's socket had joined `/` before trace index `before`.
fn connected_before(session: &SessionLog, before: usize) -> bool {
    session.packets.iter().any(|p| {
        p.way == Way::Received
            && p.sio.kind == SioPacketKind::Connect
            && p.sio.namespace == "/"
            && p.event < before
    })
}

/// The collection's requests and their answers, from every client's
/// `http` lines (its sessions' and its own between sessions).
fn exchanges(collection: &Collection, history: &History<'_>) -> Vec<Exchange> {
    let mut exchanges: Vec<Exchange> = Vec::new();
    // Client -> its request awaiting an answer (None: not the collection's).
    let mut awaiting: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for (index, event) in history.trace.events.iter().enumerate() {
        if event.kind != EventKind::Http {
            continue;
        }
        let client = event.actor.split('#').next().unwrap_or_default();
        if let Some((method, target, body)) = request_line(&event.text) {
            let exchange = collection.exchange(client, method, target, body, index);
            awaiting.insert(client, exchange.as_ref().map(|_| exchanges.len()));
            exchanges.extend(exchange);
        } else if let Some((status, body)) = response_line(&event.text)
            && let Some(Some(asked)) = awaiting.remove(client)
        {
            collection.answer(&mut exchanges[asked], index, status, body);
        }
    }
    exchanges
}

/// A request line, `POST /api/things {"name":"x"}`: method, target, body.
fn request_line(text: &str) -> Option<(&str, &str, &str)> {
    let (method, rest) = text.split_once(' ')?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let (target, body) = rest.split_once(' ').unwrap_or((rest, ""));
    target.starts_with('/').then_some((method, target, body))
}

/// An answer line, `201 {…}` or `204 `: status, body.
fn response_line(text: &str) -> Option<(u16, &str)> {
    let (status, body) = text.split_once(' ').unwrap_or((text, ""));
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((status.parse().ok()?, body))
}

impl Collection {
    /// The exchange a request line starts, if it is about this collection.
    fn exchange(
        &self,
        client: &str,
        method: &str,
        target: &str,
        body: &str,
        request: usize,
    ) -> Option<Exchange> {
        let path = target.split('?').next().unwrap_or_default();
        let (method, key) = match method {
            "GET" if path == self.path => (Method::Read, None),
            "POST" if path == self.path => (Method::Create, self.key_of_json(body)),
            "DELETE" => {
                let encoded = path
                    .strip_prefix(self.path.as_str())?
                    .strip_prefix('/')
                    .filter(|key| !key.is_empty() && !key.contains('/'))?;
                let key = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
                (Method::Destroy, Some(key.into_owned()))
            }
            _ => return None,
        };
        Some(Exchange {
            client: client.to_owned(),
            method,
            key,
            request,
            response: None,
            status: None,
            listed: None,
        })
    }

    /// The event that pushes a create or a destroy.
    fn event(&self, method: Method) -> &str {
        match method {
            Method::Destroy => &self.destroyed,
            _ => &self.created,
        }
    }

    /// Records the answer of `exchange`.
    fn answer(&self, exchange: &mut Exchange, response: usize, status: u16, body: &str) {
        exchange.response = Some(response);
        exchange.status = Some(status);
        if !exchange.succeeded() {
            return;
        }
        match exchange.method {
            Method::Create => {
                if let Some(key) = self.key_of_json(body) {
                    exchange.key = Some(key);
                }
            }
            Method::Read => {
                exchange.listed = serde_json::from_str::<Vec<Value>>(body)
                    .ok()
                    .map(|items| items.iter().filter_map(|i| self.key_of(i)).collect());
            }
            Method::Destroy => {}
        }
    }

    fn key_of(&self, item: &Value) -> Option<String> {
        item.get(&self.key)?.as_str().map(str::to_owned)
    }

    fn key_of_json(&self, text: &str) -> Option<String> {
        self.key_of(&serde_json::from_str(text).ok()?)
    }
}

/// Every create and destroy push any socket received, in trace order.
fn pushes(collection: &Collection, history: &History<'_>) -> Vec<Push> {
    history
        .packets_where(|_, p| p.way == Way::Received)
        .into_iter()
        .filter_map(|(session, packet)| {
            let first = packet.args().into_iter().next()?;
            let (method, key) = if packet.is_event(&collection.created) {
                (Method::Create, collection.key_of(&first)?)
            } else if packet.is_event(&collection.destroyed) {
                (Method::Destroy, first.as_str()?.to_owned())
            } else {
                return None;
            };
            Some(Push {
                alias: session.alias.clone(),
                event: packet.event,
                key,
                method,
            })
        })
        .collect()
}
