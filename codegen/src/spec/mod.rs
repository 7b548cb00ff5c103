//! The spec toolkit every pass imports: loading a spec with the positions of
//! its nodes, JSON pointers, and the walks over its operations and schemas.
//!
//! - [`load`](mod@load): reading YAML into [`LoadedSpec`] (errors carry file:line:column).
//! - [`position`]: between JSON pointers and line:column in the YAML text.
//! - [`pointer`](mod@pointer): escaping, resolving `$ref`s, naming a pointer's component.
//! - `walk`: the operations and the schema objects of a document.

pub mod load;
pub mod pointer;
pub mod position;
pub(crate) mod walk;

pub use load::{load, LoadError, LoadedSpec};
pub use pointer::{escape, resolve, subject_of, unescape};
pub use position::Position;
pub(crate) use walk::{all_schemas, operation_of, operations, OperationRef, METHODS};
