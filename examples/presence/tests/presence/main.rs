//! presence-example's tests: siosim used exactly as any dependent crate would.
//!
//! Every `assert_passes` runs the fixed default seeds; to replay one seed:
//!
//! ```text
//! SIOSIM_SEED=42 cargo test -p presence-example -- --exact scripted::three_members_meet
//! ```

mod everyone_meets;
mod faults;
mod live;
mod panics;
mod races;
mod scripted;
