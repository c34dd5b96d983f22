//! Deliberately broken behaviours, for proving that the scenario table has teeth.
//!
//! Only the `mutants` cargo feature compiles them in; a default build has no way
//! to enable one, whatever its environment says.
