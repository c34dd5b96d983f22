//! The scenario table: the model, the TOML loader, the embedded default table.

pub mod embedded;
pub mod load;
pub mod model;
pub mod template;

pub use load::{load_path, LoadError};
pub use model::{Fault, FaultKind, Scenario, Step};
