//! One integration-test binary (each file under tests/ would link the world again).

mod common;

mod access;
mod accounts;
mod admin;
mod alerts;
mod api;
mod api_conformance;
mod api_write;
mod assets;
mod backup;
mod cli;
mod crash;
mod dashboard;
mod edge;
mod lifecycle;
mod mail;
mod metrics;
mod packaging;
mod pages;
mod payments;
mod posting;
mod search;
mod tasks;
mod transfer;
mod xss;
