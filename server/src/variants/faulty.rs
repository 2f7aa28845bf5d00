//! Variants that take the whole process down instead of breaking the
//! contract: on some seeds, `increase count` aborts the process, overflows
//! its stack or spins forever (so simulated time stops). They prove that a
//! campaign in worker processes reports such a seed as a failure, with its
//! replay line, and goes on with the next one.
//!
//! Whether a seed strikes depends only on the socket id, which the seed
//! draws: about one `increase count` in four.

use std::sync::Arc;

use socketioxide::extract::SocketRef;

use crate::counter::{Counter, INCREASE_COUNT};

/// What a striking `increase count` does.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Abort,
    OverflowStack,
    Hang,
}

pub(super) fn rewire_abort(counter: &Arc<Counter>, socket: &SocketRef) {
    rewire(counter, socket, Fault::Abort);
}

pub(super) fn rewire_overflow_stack(counter: &Arc<Counter>, socket: &SocketRef) {
    rewire(counter, socket, Fault::OverflowStack);
}

pub(super) fn rewire_hang(counter: &Arc<Counter>, socket: &SocketRef) {
    rewire(counter, socket, Fault::Hang);
}

/// Wraps the reference's `increase count`: it strikes first on a socket
/// whose id's first byte is a multiple of 4.
fn rewire(counter: &Arc<Counter>, socket: &SocketRef, fault: Fault) {
    let strikes = socket
        .id
        .as_str()
        .as_bytes()
        .first()
        .is_some_and(|b| b % 4 == 0);
    if !strikes {
        return;
    }
    let counter = counter.clone();
    socket.on(INCREASE_COUNT, move || {
        let _keep = counter.clone();
        async move { strike(fault) }
    });
}

fn strike(fault: Fault) {
    match fault {
        Fault::Abort => std::process::abort(),
        Fault::OverflowStack => {
            std::hint::black_box(dive(0));
        }
        Fault::Hang => loop {
            std::hint::spin_loop();
        },
    }
}

/// Recurses with a page of stack per frame until the stack runs out.
fn dive(depth: u64) -> u64 {
    let page = std::hint::black_box([depth as u8; 4096]);
    if depth == u64::MAX {
        return 0;
    }
    dive(depth + 1).wrapping_add(u64::from(page[0]))
}
