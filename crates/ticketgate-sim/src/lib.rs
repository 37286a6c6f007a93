//! The simulator behind `ticketgate demo` and `ticketgate replay`: a seeded support
//! organisation ([`org`]), insiders with their strategies ([`strategies`]), datasets in CSV
//! or JSONL ([`dataset`]), the replay through a gate ([`replay`]), the report ([`report`])
//! and the runs that tie them together ([`run`]).

pub mod dataset;
pub mod detection;
pub mod org;
pub mod replay;
pub mod report;
pub mod run;
pub mod strategies;
