//! Every conformance case, by family. A family file lists its cases (name,
//! severity, profile, clause) at the top and their bodies below.

mod engineio;
mod engineio_wire;

use crate::case::Case;

/// The whole suite, in report order.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(engineio::cases());
    cases
}
