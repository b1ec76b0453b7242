//! The knowledge base's text machinery: what a document says (extraction), how it is cut into
//! passages (chunking), how passages are found (a language-aware BM25 index), and how a full-text
//! ranking and a vector ranking are merged (fusion). Storage and orchestration live in the store
//! and the engine; this crate knows nothing about tenants' data beyond the ids it is given.

pub mod analysis;
pub mod chunk;
pub mod extract;
pub mod fuse;
mod highlight;
pub mod index;

pub use analysis::Lang;
pub use chunk::{Chunk, ChunkSizes, chunk};
pub use extract::{Extracted, Format, Section, extract};
pub use fuse::{Ranked, fuse};
pub use index::{Hit, IndexError, IndexedChunk, KbIndex};
