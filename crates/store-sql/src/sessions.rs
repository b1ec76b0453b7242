use async_trait::async_trait;
use sb_domain::Timestamp;
use sb_store::{NewSession, SessionStore, SessionWithUser, StoreResult};

use crate::accounts::user_from_row;
use crate::{Db, SqlStore, q};

#[async_trait]
impl<D: Db> SessionStore for SqlStore<D> {
    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO sessions \
                   (id, token_hash, tenant_id, user_id, csrf_hash, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .text(s.id.as_str())
                .text(&s.token_hash)
                .text(s.tenant_id.as_str())
                .text(s.user_id.as_str())
                .text(&s.csrf_hash)
                .ts(s.created_at)
                .ts(s.expires_at),
            )
            .await
            .map(drop)
    }

    async fn find_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<SessionWithUser>> {
        let row = self
            .db
            .fetch_optional(
                q("SELECT s.id AS session_id, s.csrf_hash, s.expires_at, \
                          u.id, u.tenant_id, u.email, u.role, u.available, u.language, u.created_at \
                   FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id \
                   WHERE s.token_hash = $1 AND s.expires_at > $2")
                .text(token_hash)
                .ts(now),
            )
            .await?;
        row.map(|row| {
            Ok(SessionWithUser {
                id: row.parse("session_id")?,
                csrf_hash: row.text("csrf_hash")?,
                expires_at: row.ts("expires_at")?,
                user: user_from_row(&row)?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.db
            .execute(q("DELETE FROM sessions WHERE token_hash = $1").text(token_hash))
            .await
            .map(drop)
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        self.db.execute(q("DELETE FROM sessions WHERE expires_at <= $1").ts(now)).await
    }
}
