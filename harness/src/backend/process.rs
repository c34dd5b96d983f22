//! Local processes backend.
