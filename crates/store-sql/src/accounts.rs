use async_trait::async_trait;
use sb_domain::{Email, NewUser, Tenant, TenantId, TenantName, User, UserId};
use sb_store::{AccountStore, Page, PageRequest, StoreResult, UserCredentials};

use crate::{Db, Query, Row, SqlStore, each, q};

/// A user's columns, for [`user_from_row`].
macro_rules! user_columns {
    () => {
        "id, tenant_id, email, role, available, language, created_at"
    };
}

pub(crate) fn user_from_row(row: &Row) -> StoreResult<User> {
    Ok(User {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        email: Email::from_stored(row.text("email")?),
        role: row.parse("role")?,
        available: row.boolean("available")?,
        language: row.text("language")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) fn insert_user(tenant: &TenantId, user: &NewUser, now: sb_domain::Timestamp) -> Query {
    q(concat!(
        "INSERT INTO users (id, tenant_id, email, password_hash, role, available, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        user_columns!()
    ))
    .text(user.id.as_str())
    .text(tenant.as_str())
    .text(user.email.as_str())
    .text(&user.password_hash)
    .text(user.role.as_str())
    .boolean(user.available)
    .ts(now)
}

#[async_trait]
impl<D: Db> AccountStore for SqlStore<D> {
    async fn create_tenant_with_owner(
        &self,
        tenant: &Tenant,
        owner: &NewUser,
    ) -> StoreResult<User> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO tenants (id, name, time_zone, created_at) VALUES ($1, $2, $3, $4)")
                .text(tenant.id.as_str())
                .text(tenant.name.as_str())
                .text(&tenant.time_zone)
                .ts(tenant.created_at),
        )
        .await?;
        let row = tx.fetch_one(insert_user(&tenant.id, owner, tenant.created_at)).await?;
        let user = user_from_row(&row)?;
        tx.commit().await?;
        Ok(user)
    }

    async fn get_tenant(&self, tenant: &TenantId) -> StoreResult<Tenant> {
        let row = self
            .db
            .fetch_one(
                q("SELECT id, name, time_zone, created_at, retention_days, attachment_policy_json \
                   FROM tenants WHERE id = $1")
                    .text(tenant.as_str()),
            )
            .await?;
        Ok(Tenant {
            id: row.parse("id")?,
            name: TenantName::from_stored(row.text("name")?),
            time_zone: row.text("time_zone")?,
            retention_days: row.opt_int("retention_days")?.and_then(|d| u32::try_from(d).ok()),
            created_at: row.ts("created_at")?,
            attachments: row.opt_json("attachment_policy_json")?.unwrap_or_default(),
        })
    }

    async fn create_user(&self, tenant: &TenantId, user: &NewUser) -> StoreResult<User> {
        let row = self.db.fetch_one(insert_user(tenant, user, sb_domain::Timestamp::now())).await?;
        user_from_row(&row)
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<User> {
        let row = self
            .db
            .fetch_one(
                q(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE tenant_id = $1 AND id = $2"
                ))
                .text(tenant.as_str())
                .text(id.as_str()),
            )
            .await?;
        user_from_row(&row)
    }

    async fn list_users(&self, tenant: &TenantId, page: &PageRequest) -> StoreResult<Page<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, each(user_from_row), |u| u.id.to_string()).await
    }

    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> StoreResult<Option<UserCredentials>> {
        let row = self
            .db
            .fetch_optional(
                q(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", password_hash FROM users WHERE email = $1"
                ))
                .text(email.as_str()),
            )
            .await?;
        row.map(|row| {
            Ok(UserCredentials {
                user: user_from_row(&row)?,
                password_hash: row.text("password_hash")?,
            })
        })
        .transpose()
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let query = q("UPDATE tenants SET name = $1, time_zone = $2, retention_days = $4, \
               attachment_policy_json = $5 WHERE id = $3")
        .text(tenant.name.as_str())
        .text(&tenant.time_zone)
        .text(tenant.id.as_str())
        .opt_int(tenant.retention_days.map(i64::from))
        .json(crate::json::to_json(&tenant.attachments));
        crate::expect_found(self.config_write(tenant.id.as_str(), query).await?)
    }

    async fn set_available(
        &self,
        tenant: &TenantId,
        user: &UserId,
        available: bool,
    ) -> StoreResult<()> {
        let query = q("UPDATE users SET available = $1 WHERE tenant_id = $2 AND id = $3")
            .boolean(available)
            .text(tenant.as_str())
            .text(user.as_str());
        crate::expect_found(self.db.execute(query).await?)
    }

    async fn available_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE tenant_id = $1 AND available = $2 ORDER BY id"
        );
        let rows = self.db.fetch_all(q(sql).text(tenant.as_str()).boolean(true)).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_language(
        &self,
        tenant: &TenantId,
        user: &UserId,
        language: &str,
    ) -> StoreResult<()> {
        let query = q("UPDATE users SET language = $1 WHERE tenant_id = $2 AND id = $3")
            .text(language)
            .text(tenant.as_str())
            .text(user.as_str());
        crate::expect_found(self.db.execute(query).await?)
    }
}
