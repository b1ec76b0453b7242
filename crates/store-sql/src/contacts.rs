use async_trait::async_trait;
use sb_domain::{Contact, ContactId, Conversation, TenantId, Timestamp};
use sb_store::{ContactKey, ContactStore, Page, PageRequest, StoreResult};

use crate::conversations::{conversation_columns, conversation_from_row};
use crate::json::to_json;
use crate::labels::like_pattern;
use crate::{Db, Query, Row, SqlStore, expect_found, q};

macro_rules! columns {
    () => {
        "id, tenant_id, name, email, user_id, verified, language, attributes_json, \
         first_seen_at, last_seen_at"
    };
}

fn contact_from_row(row: &Row) -> StoreResult<Contact> {
    Ok(Contact {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.opt_text("name")?,
        email: row.opt_text("email")?,
        user_id: row.opt_text("user_id")?,
        verified: row.boolean("verified")?,
        language: row.opt_text("language")?,
        attributes: row.json("attributes_json")?,
        first_seen_at: row.ts("first_seen_at")?,
        last_seen_at: row.ts("last_seen_at")?,
    })
}

/// What `GET /contacts?q=` searches: name, e-mail and user id, lowercased.
fn search_text(c: &Contact) -> String {
    [&c.name, &c.email, &c.user_id]
        .into_iter()
        .flatten()
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a page of contacts continues: `<last seen, ms>.<id>` of the last one shown.
fn parse_cursor(text: &str) -> Option<(Timestamp, ContactId)> {
    let (millis, id) = text.split_once('.')?;
    Some((Timestamp::from_millisecond(millis.parse().ok()?).ok()?, id.parse().ok()?))
}

/// Binds what a visit tells, as $1..$8 of both updates: name, e-mail, user id, verified,
/// language, last seen, the search text and the browser (kept when `None`).
fn bind_visit(query: Query, c: &Contact, browser: Option<&str>) -> Query {
    query
        .opt_text(c.name.as_deref())
        .opt_text(c.email.as_deref())
        .opt_text(c.user_id.as_deref())
        .boolean(c.verified)
        .opt_text(c.language.as_deref())
        .ts(c.last_seen_at)
        .text(search_text(c))
        .opt_text(browser)
}

#[async_trait]
impl<D: Db> ContactStore for SqlStore<D> {
    async fn find_contact(
        &self,
        tenant: &TenantId,
        key: ContactKey<'_>,
    ) -> StoreResult<Option<Contact>> {
        let (sql, value) = match key {
            ContactKey::VerifiedUser(user) => (
                concat!(
                    "SELECT ",
                    columns!(),
                    " FROM contacts WHERE tenant_id = $1 AND user_id = $2"
                ),
                user,
            ),
            ContactKey::Browser(hash) => (
                concat!(
                    "SELECT ",
                    columns!(),
                    " FROM contacts WHERE tenant_id = $1 AND browser_key_hash = $2"
                ),
                hash,
            ),
        };
        let query = q(sql).text(tenant.as_str()).text(value);
        self.db.fetch_optional(query).await?.as_ref().map(contact_from_row).transpose()
    }

    async fn create_contact(&self, c: &Contact, browser: Option<&str>) -> StoreResult<()> {
        let query = q(concat!(
            "INSERT INTO contacts (",
            columns!(),
            ", browser_key_hash, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .text(c.id.as_str())
        .text(c.tenant_id.as_str())
        .opt_text(c.name.as_deref())
        .opt_text(c.email.as_deref())
        .opt_text(c.user_id.as_deref())
        .boolean(c.verified)
        .opt_text(c.language.as_deref())
        .json(to_json(&c.attributes))
        .ts(c.first_seen_at)
        .ts(c.last_seen_at)
        .opt_text(browser)
        .text(search_text(c));
        self.db.execute(query).await.map(drop)
    }

    async fn update_contact(&self, c: &Contact, browser: Option<&str>) -> StoreResult<()> {
        let query = q("UPDATE contacts SET name = $1, email = $2, user_id = $3, verified = $4, \
             language = $5, last_seen_at = $6, search_text = $7, \
             browser_key_hash = COALESCE($8, browser_key_hash), attributes_json = $9 \
             WHERE tenant_id = $10 AND id = $11");
        let query = bind_visit(query, c, browser).json(to_json(&c.attributes));
        expect_found(self.db.execute(query.text(c.tenant_id.as_str()).text(c.id.as_str())).await?)
    }

    async fn record_visit(&self, c: &Contact, browser: Option<&str>) -> StoreResult<()> {
        let query = q("UPDATE contacts SET name = $1, email = $2, user_id = $3, verified = $4, \
             language = $5, last_seen_at = $6, search_text = $7, \
             browser_key_hash = COALESCE($8, browser_key_hash) \
             WHERE tenant_id = $9 AND id = $10");
        let query = bind_visit(query, c, browser);
        expect_found(self.db.execute(query.text(c.tenant_id.as_str()).text(c.id.as_str())).await?)
    }

    async fn get_contact(&self, tenant: &TenantId, id: &ContactId) -> StoreResult<Contact> {
        let sql = concat!("SELECT ", columns!(), " FROM contacts WHERE tenant_id = $1 AND id = $2");
        contact_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_contacts(
        &self,
        tenant: &TenantId,
        query: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Contact>> {
        let after = match page.after.as_deref() {
            None => None,
            Some(text) => match parse_cursor(text) {
                Some(cursor) => Some(cursor),
                None => return Ok(Page { items: Vec::new(), next: None }),
            },
        };
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM contacts WHERE tenant_id = $1 \
             AND ($2 = '' OR search_text LIKE $2 ESCAPE '\\') \
             AND ($4 = '' OR last_seen_at < $3 OR (last_seen_at = $3 AND id < $4)) \
             ORDER BY last_seen_at DESC, id DESC LIMIT $5"
        );
        let pattern = query.map(|q| format!("%{}%", like_pattern(q))).unwrap_or_default();
        let rows = self
            .db
            .fetch_all(
                q(sql)
                    .text(tenant.as_str())
                    .text(pattern)
                    .ts(after.as_ref().map_or(Timestamp::UNIX_EPOCH, |a| a.0))
                    .text(after.as_ref().map(|a| a.1.as_str()).unwrap_or_default())
                    .int(page.fetch_limit()),
            )
            .await?;
        let items = rows.iter().map(contact_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(page.finish(items, |c| format!("{}.{}", c.last_seen_at.as_millisecond(), c.id)))
    }

    async fn contact_conversations(
        &self,
        tenant: &TenantId,
        contact: &ContactId,
    ) -> StoreResult<Vec<Conversation>> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE tenant_id = $1 AND contact_id = $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let query = q(sql).text(tenant.as_str()).text(contact.as_str());
        self.db.fetch_all(query).await?.iter().map(conversation_from_row).collect()
    }
}
