//! Turns a panic in the server app into the run's failure.
//!
//! A panic in a task on the server host must never pass for green. Without
//! `--cfg tokio_unstable` tokio swallows a spawned task's panic (the task just
//! ends); with it, turmoil shuts the host's runtime down and the panic
//! unwinds out of `Sim::step`. Either way the panic hook has seen it first:
//! the hook installed here remembers the first panic raised on the server
//! host of the simulation running on this thread, and the driver ends the run
//! with it as a failure. Panics anywhere else (other threads, client hosts,
//! the harness itself) go to the previous hook unchanged.
//!
//! The hook also sees panics the app catches itself (`catch_unwind`, a
//! catch-panic layer): in a simulated server those are bugs too.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::PanicHookInfo;
use std::sync::Once;
use std::time::Duration;

use crate::host_log;

thread_local! {
    static WATCHED: RefCell<Option<Watched>> = const { RefCell::new(None) };
}

struct Watched {
    server_hosts: BTreeSet<String>,
    /// The app's code is running outside any host (being built).
    building_app: bool,
    first: Option<AppPanic>,
}

/// A panic raised by the server app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppPanic {
    /// Simulated time of the panic, when turmoil could tell.
    pub(crate) at: Option<Duration>,
    /// `the server panicked at src/app.rs:12:5: called `Option::unwrap()`…`
    pub(crate) description: String,
}

/// Watches this thread's server host for panics until dropped.
#[must_use]
#[derive(Debug)]
pub(crate) struct PanicWatch(());

impl PanicWatch {
    pub(crate) fn start(server_hosts: BTreeSet<String>) -> Self {
        install_hook_once();
        WATCHED.with(|watched| {
            *watched.borrow_mut() = Some(Watched {
                server_hosts,
                building_app: false,
                first: None,
            })
        });
        PanicWatch(())
    }

    /// The first panic the server app raised, if any.
    pub(crate) fn first(&self) -> Option<AppPanic> {
        WATCHED.with(|watched| watched.borrow().as_ref().and_then(|w| w.first.clone()))
    }
}

impl Drop for PanicWatch {
    fn drop(&mut self) {
        let _ = WATCHED.try_with(|watched| watched.borrow_mut().take());
    }
}

/// Runs `build` (the app factory) counting its panic as the app's, and
/// catches it.
pub(crate) fn while_building_app<R>(build: impl FnOnce() -> R) -> std::thread::Result<R> {
    let set = |value: bool| {
        WATCHED.with(|watched| {
            if let Some(watched) = watched.borrow_mut().as_mut() {
                watched.building_app = value;
            }
        })
    };
    set(true);
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(build));
    set(false);
    built
}

fn install_hook_once() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !remember_app_panic(info) {
                previous(info);
            }
        }));
    });
}

/// Whether the panic was the watched server app's (and is now remembered).
/// Never panics: it runs inside the panic hook.
fn remember_app_panic(info: &PanicHookInfo<'_>) -> bool {
    WATCHED
        .try_with(|watched| {
            let Ok(mut watched) = watched.try_borrow_mut() else {
                return false;
            };
            let Some(watched) = watched.as_mut() else {
                return false;
            };
            let host = host_log::current_host().filter(|host| watched.server_hosts.contains(host));
            if !watched.building_app && host.is_none() {
                return false;
            }
            // Later panics on the host are the first one's consequences (tokio
            // shutting the runtime down): the first tells the story.
            if watched.first.is_none() {
                watched.first = Some(AppPanic {
                    at: turmoil::sim_elapsed(),
                    description: describe(info, host.as_deref()),
                });
            }
            true
        })
        .unwrap_or(false)
}

/// `the server panicked at …`, or in a cluster `node-2 panicked at …`.
fn describe(info: &PanicHookInfo<'_>, host: Option<&str>) -> String {
    let who = match host {
        Some(host) if host != crate::driver::SERVER_HOST => host,
        _ => "the server",
    };
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned());
    match info.location() {
        Some(at) => format!(
            "{who} panicked at {}:{}:{}: {message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("{who} panicked: {message}"),
    }
}
