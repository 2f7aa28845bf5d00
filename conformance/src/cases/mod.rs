//! Every conformance case, by family. A family file lists its cases (name,
//! severity, profile, clause) at the top and their bodies below.

mod app;
mod engineio;
mod engineio_wire;
mod fan_out_memory;
mod faults;
mod faults_scenarios;
mod robustness;
mod slow_request;
mod socketio;
mod socketio_polling;
mod socketio_raw;

use crate::case::Case;

pub(crate) use slow_request::CUT_OFF_WITHIN as SLOW_REQUEST_CUT_OFF;

/// The whole suite, in report order.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(engineio::cases());
    cases.extend(socketio::cases());
    cases.extend(app::cases());
    cases.extend(faults::cases());
    cases.extend(robustness::cases());
    cases.extend(slow_request::cases());
    cases.extend(fan_out_memory::cases());
    cases
}
