//! pup (being built).
pub mod auth;
pub mod frame;
pub mod mapper_link;
