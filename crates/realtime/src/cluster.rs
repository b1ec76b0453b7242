//! Fan-out across nodes through NATS. Every event a node publishes is delivered to its own
//! subscribers at once and also sent on one subject; every node delivers what it hears there to
//! its subscribers. Core NATS is at-most-once, which is enough: events are announced after they
//! are stored, and a client that missed some catches up from its last message id.
//!
//! NATS being away never holds a conversation up: each node keeps delivering locally, a bounded
//! outbox drops what it cannot send (with a warning), and the client reconnects by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use sb_domain::TenantId;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::{Event, Hub};

/// The subject every node publishes and listens on.
const SUBJECT: &str = "switchboard.events";
/// Events waiting for NATS; past this they are dropped rather than held in memory.
const OUTBOX: usize = 10_000;

#[derive(Serialize, Deserialize)]
struct Envelope {
    tenant_id: TenantId,
    event: Event,
}

/// Why a node could not join the bus (a malformed address, mostly: an unreachable server is
/// retried in the background instead).
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect: {0}")]
    Connect(#[from] async_nats::ConnectError),
    #[error("cannot subscribe: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
}

/// Connects `hub` to the other nodes through the NATS server at `url`. Returns at once; the
/// connection is made, and remade, in the background.
pub async fn join(url: &str, hub: Arc<Hub>) -> Result<(), BusError> {
    let connected = Arc::new(AtomicBool::new(false));
    let state = connected.clone();
    let client = async_nats::ConnectOptions::new()
        .name("switchboard")
        // A node hears its own events already; NATS need not send them back.
        .no_echo()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .event_callback(move |event| {
            let state = state.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        state.store(true, Ordering::Relaxed);
                        tracing::info!("realtime bus connected: events reach every node");
                    }
                    async_nats::Event::Disconnected => {
                        state.store(false, Ordering::Relaxed);
                        tracing::warn!(
                            "realtime bus lost: events reach this node's clients only until it returns"
                        );
                    }
                    other => tracing::info!(event = %other, "realtime bus"),
                }
            }
        })
        .connect(url)
        .await?;

    hub.set_bus_state(connected.clone());
    let (outbox, mut pending) = mpsc::channel::<Vec<u8>>(OUTBOX);
    hub.set_relay(move |tenant, event| {
        let envelope = Envelope { tenant_id: tenant.clone(), event: event.clone() };
        let Ok(bytes) = serde_json::to_vec(&envelope) else { return };
        if outbox.try_send(bytes).is_err() && connected.load(Ordering::Relaxed) {
            tracing::warn!("realtime bus outbox full: an event reached this node's clients only");
        }
    });

    let publisher = client.clone();
    tokio::spawn(async move {
        while let Some(bytes) = pending.recv().await {
            if let Err(err) = publisher.publish(SUBJECT, bytes.into()).await {
                tracing::warn!(error = %err, "could not send an event to the other nodes");
            }
        }
    });

    let mut incoming = client.subscribe(SUBJECT).await?;
    tokio::spawn(async move {
        while let Some(message) = incoming.next().await {
            match serde_json::from_slice::<Envelope>(&message.payload) {
                Ok(envelope) => hub.deliver_from_elsewhere(&envelope.tenant_id, envelope.event),
                Err(err) => tracing::warn!(error = %err, "an unreadable event on the realtime bus"),
            }
        }
    });
    Ok(())
}
