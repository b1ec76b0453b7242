use async_trait::async_trait;
use sb_domain::{Email, InvitationId, NewUser, SessionId, TenantId, Timestamp, User, UserId};
use sb_store::{CredentialStore, Invitation, StoreResult};

use crate::accounts::{insert_user, user_from_row};
use crate::{Db, Row, SqlStore, q};

/// An invitation's columns, for [`invitation_from_row`].
macro_rules! invitation_columns {
    () => {
        "id, tenant_id, email, role, invited_by, created_at, expires_at"
    };
}

fn invitation_from_row(row: &Row) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        email: Email::from_stored(row.text("email")?),
        role: row.parse("role")?,
        invited_by: row.opt_parse("invited_by")?,
        created_at: row.ts("created_at")?,
        expires_at: row.ts("expires_at")?,
    })
}

#[async_trait]
impl<D: Db> CredentialStore for SqlStore<D> {
    async fn password_hash(&self, tenant: &TenantId, user: &UserId) -> StoreResult<String> {
        let query = q("SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(user.as_str());
        self.db.fetch_one(query).await?.text("password_hash")
    }

    async fn set_password(
        &self,
        tenant: &TenantId,
        user: &UserId,
        password_hash: &str,
        keep: Option<&SessionId>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                q("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
                    .text(password_hash)
                    .text(tenant.as_str())
                    .text(user.as_str()),
            )
            .await?;
        crate::expect_found(changed)?;
        tx.execute(
            q("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id <> $3")
                .text(tenant.as_str())
                .text(user.as_str())
                .text(keep.map(SessionId::as_str).unwrap_or_default()),
        )
        .await?;
        // A reset link sent before the change must not undo it.
        tx.execute(
            q("DELETE FROM password_resets WHERE tenant_id = $1 AND user_id = $2")
                .text(tenant.as_str())
                .text(user.as_str()),
        )
        .await?;
        tx.commit().await
    }

    async fn create_password_reset(
        &self,
        tenant: &TenantId,
        user: &UserId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let query = q("INSERT INTO password_resets \
                       (token_hash, tenant_id, user_id, created_at, expires_at) \
                       VALUES ($1, $2, $3, $4, $5)")
        .text(token_hash)
        .text(tenant.as_str())
        .text(user.as_str())
        .ts(Timestamp::now())
        .ts(expires_at);
        self.db.execute(query).await.map(drop)
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(TenantId, UserId)>> {
        let query = q("UPDATE password_resets SET used_at = $1 \
                       WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                       RETURNING tenant_id, user_id")
        .ts(now)
        .text(token_hash);
        let row = self.db.fetch_optional(query).await?;
        row.map(|row| Ok((row.parse("tenant_id")?, row.parse("user_id")?))).transpose()
    }

    async fn create_invitation(&self, i: &Invitation, token_hash: &str) -> StoreResult<()> {
        let query = q("INSERT INTO invitations \
                       (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .text(i.id.as_str())
        .text(i.tenant_id.as_str())
        .text(i.email.as_str())
        .text(i.role.as_str())
        .text(token_hash)
        .opt_text(i.invited_by.as_ref().map(UserId::as_str))
        .ts(i.created_at)
        .ts(i.expires_at);
        self.db.execute(query).await.map(drop)
    }

    async fn list_invitations(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>> {
        let query = q(concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations \
             WHERE tenant_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY id"
        ))
        .text(tenant.as_str())
        .ts(now);
        self.db.fetch_all(query).await?.iter().map(invitation_from_row).collect()
    }

    async fn delete_invitation(&self, tenant: &TenantId, id: &InvitationId) -> StoreResult<()> {
        let query = q("DELETE FROM invitations WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(id.as_str());
        crate::expect_found(self.db.execute(query).await?)
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        user: &UserId,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.db.begin().await?;
        let taken = tx
            .fetch_optional(
                q(concat!(
                    "UPDATE invitations SET accepted_at = $1 \
                     WHERE token_hash = $2 AND accepted_at IS NULL AND expires_at > $1 \
                     RETURNING ",
                    invitation_columns!()
                ))
                .ts(now)
                .text(token_hash),
            )
            .await?;
        let Some(row) = taken else { return Ok(None) };
        let invitation = invitation_from_row(&row)?;
        let new_user = NewUser {
            id: user.clone(),
            email: invitation.email,
            role: invitation.role,
            password_hash: password_hash.to_owned(),
            available: true,
        };
        let row = tx.fetch_one(insert_user(&invitation.tenant_id, &new_user, now)).await?;
        let created = user_from_row(&row)?;
        tx.commit().await?;
        Ok(Some(created))
    }
}
