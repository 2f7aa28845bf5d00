//! The suite's report, rendered for people (console, HTML) and for machines
//! (JSON, JUnit XML).

pub mod cause;
pub mod console;
pub mod html;
pub mod json;
pub mod junit;
mod sequence_diagram;
