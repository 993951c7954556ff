//! pup (being built).
