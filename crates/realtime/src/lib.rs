//! Realtime fan-out: inside one process, and across nodes through NATS (`cluster`). Operators subscribe to their tenant, visitors to their
//! conversation; every stored event is broadcast to both. Subscriptions are RAII guards: when a
//! socket goes away its guard drops and an unused topic is removed. Connection caps per client
//! address and per tenant keep one party from exhausting the server.

mod caps;
pub mod cluster;
mod hub;

pub use caps::{ConnectionCaps, ConnectionPermit};
pub use hub::{Event, Hub, Subscription};
