//! pup (being built).
pub mod auth;
pub mod client;
pub mod exec;
pub mod frame;
pub mod mapper_link;
pub mod proto;
