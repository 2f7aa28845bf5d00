//! Presence with typing indicators: who is here, who is typing, what they say.
//!
//! | a client emits          | it gets                   | the others in the room get |
//! |-------------------------|---------------------------|----------------------------|
//! | `join` name (with ack)  | ack: every member's name  | `joined` name              |
//! | `typing`                | nothing                   | `typing` name              |
//! | `say` text              | `said` {name, text}       | `said` {name, text}        |
//! | (disconnects)           |                           | `left` name                |
//!
//! [`app`] is the correct app. [`racy_app`] and [`app_unwrapping_typing`]
//! each carry one bug of the kind people really write, for the tests to find.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::socket::Sid;

/// Everyone who has joined sits in this room.
const ROOM: &str = "present";

/// How long a write takes to reach the member store (a database round trip
/// in production; simulated time under test).
const STORE_WRITE_LATENCY: Duration = Duration::from_millis(2);

/// The correct app.
pub fn app() -> axum::Router {
    build(Bugs::default())
}

/// Does not wait for the member store's write ("the handler need not block on
/// the database"). A `join` handled while an earlier member's write is under
/// way misses that member: its ack lacks them, and they announced themselves
/// before it entered the room, so no `joined` tells it either.
pub fn racy_app() -> axum::Router {
    build(Bugs {
        skip_waiting_for_the_store: true,
        ..Bugs::default()
    })
}

/// Trusts that nobody types before joining: `typing` from a client that has
/// not joined panics on an `unwrap()`.
pub fn app_unwrapping_typing() -> axum::Router {
    build(Bugs {
        unwrap_typing_name: true,
        ..Bugs::default()
    })
}

#[derive(Debug, Clone, Copy, Default)]
struct Bugs {
    skip_waiting_for_the_store: bool,
    unwrap_typing_name: bool,
}

/// The members' names in the order they joined.
#[derive(Debug, Clone, Default)]
struct Members(Arc<Mutex<Vec<(Sid, String)>>>);

impl Members {
    async fn add(self, sid: Sid, name: String) {
        tokio::time::sleep(STORE_WRITE_LATENCY).await;
        self.lock().push((sid, name));
    }

    fn remove(&self, sid: Sid) -> Option<String> {
        let mut members = self.lock();
        let index = members.iter().position(|(id, _)| *id == sid)?;
        Some(members.remove(index).1)
    }

    fn name_of(&self, sid: Sid) -> Option<String> {
        self.lock()
            .iter()
            .find(|(id, _)| *id == sid)
            .map(|(_, name)| name.clone())
    }

    fn names(&self) -> Vec<String> {
        self.lock().iter().map(|(_, name)| name.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Sid, String)>> {
        // A panic elsewhere cannot leave the list half-written: every change is one call.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn build(bugs: Bugs) -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    let members = Members::default();
    io.ns("/", async move |socket: SocketRef| {
        on_join(&socket, members.clone(), bugs);
        on_typing(&socket, members.clone(), bugs);
        on_say(&socket, members.clone());
        on_leave(&socket, members);
    });
    axum::Router::new().layer(layer)
}

fn on_join(socket: &SocketRef, members: Members, bugs: Bugs) {
    socket.on(
        "join",
        async move |socket: SocketRef, Data::<String>(name), ack: AckSender| {
            if members.name_of(socket.id).is_some() {
                return; // joined already; the first name stays
            }
            let write = members.clone().add(socket.id, name.clone());
            let names = if bugs.skip_waiting_for_the_store {
                tokio::spawn(write);
                // The write is still under way: count ourselves in by hand.
                let mut names = members.names();
                names.push(name.clone());
                names
            } else {
                write.await;
                if !socket.connected() {
                    members.remove(socket.id); // left while the write was under way
                    return;
                }
                members.names()
            };
            tracing::info!(member = %name, "join");
            socket.join(ROOM);
            let _ = ack.send(&names);
            let _ = socket.to(ROOM).emit("joined", &name).await;
        },
    );
}

fn on_typing(socket: &SocketRef, members: Members, bugs: Bugs) {
    socket.on("typing", async move |socket: SocketRef| {
        let name = if bugs.unwrap_typing_name {
            Some(members.name_of(socket.id).unwrap())
        } else {
            members.name_of(socket.id)
        };
        if let Some(name) = name {
            let _ = socket.to(ROOM).emit("typing", &name).await;
        }
    });
}

fn on_say(socket: &SocketRef, members: Members) {
    socket.on(
        "say",
        async move |socket: SocketRef, Data::<String>(text)| {
            if let Some(name) = members.name_of(socket.id) {
                let said = json!({ "name": name, "text": text });
                let _ = socket.within(ROOM).emit("said", &said).await;
            }
        },
    );
}

fn on_leave(socket: &SocketRef, members: Members) {
    socket.on_disconnect(async move |socket: SocketRef| {
        if let Some(name) = members.remove(socket.id) {
            tracing::info!(member = %name, "leave");
            let _ = socket.to(ROOM).emit("left", &name).await;
        }
    });
}
