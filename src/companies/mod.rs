//! Companies: the employers behind jobs.

pub mod api;
pub mod pages;
pub mod store;
