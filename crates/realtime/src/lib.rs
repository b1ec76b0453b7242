//! Realtime fan-out inside one process. Operators subscribe to their tenant, visitors to their
//! conversation; every stored event is broadcast to both. Subscriptions are RAII guards: when a
//! socket goes away its guard drops and an unused topic is removed. Connection caps per client
//! address and per tenant keep one party from exhausting the server.

mod caps;
mod hub;

pub use caps::{ConnectionCaps, ConnectionPermit};
pub use hub::{Event, Hub, Subscription};
