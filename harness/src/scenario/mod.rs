//! The scenario table: the model, the TOML loader, the embedded default table.

pub mod embedded;
pub mod load;
pub mod model;
mod test_name;

pub use test_name::test_name_of;

pub use load::{load_path, LoadError};
pub use model::Scenario;
