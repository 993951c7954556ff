//! pupmapper (being built).
