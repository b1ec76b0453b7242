//! Whether this node can serve: the database answers.

use std::sync::Arc;

use sb_store::Database;

use crate::EngineError;

/// Reports on the database this node uses (for `/healthz` and logs).
pub struct HealthService {
    database: Arc<dyn Database>,
}

impl HealthService {
    pub fn new(store: &Arc<dyn sb_store::Store>) -> Arc<Self> {
        Arc::new(Self { database: store.clone() })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.database.backend()
    }

    /// A cheap round trip to the database.
    pub async fn ping(&self) -> Result<(), EngineError> {
        Ok(self.database.ping().await?)
    }
}
