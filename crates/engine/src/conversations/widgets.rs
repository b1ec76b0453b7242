//! Managing widgets. The identity secret is sealed like connection credentials and write-only.

use sb_domain::{
    DEFAULT_COLOR, Role, Timestamp, ValidationError, Widget, WidgetId, display_name,
    validate_color, validate_origin,
};
use sb_secrets::Secret;
use sb_store::{Page, PageRequest, StoredWidget};

use crate::{Actor, ConversationsService, EngineError};

/// A widget as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct WidgetDraft {
    pub name: Option<String>,
    /// `Some(None)` removes the greeting.
    pub greeting: Option<Option<String>>,
    pub active: Option<bool>,
    pub ai_enabled: Option<bool>,
    pub translation_enabled: Option<bool>,
    pub primary_color: Option<String>,
    pub position: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    /// `Some(None)` removes the secret (and with it identity verification).
    pub identity_secret: Option<Option<Secret<String>>>,
    /// `Some(None)` removes the office hours.
    pub office_hours: Option<Option<sb_domain::OfficeHours>>,
}

/// A widget as shown: the identity secret only as `identity_secret_set`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct WidgetView {
    #[serde(flatten)]
    pub widget: Widget,
    pub identity_secret_set: bool,
}

fn apply(widget: &mut Widget, draft: &mut WidgetDraft) -> Result<(), ValidationError> {
    if let Some(name) = &draft.name {
        widget.name = display_name(name, "name", 100)?;
    }
    if let Some(greeting) = draft.greeting.take() {
        widget.greeting = greeting.map(|g| g.trim().to_owned()).filter(|g| !g.is_empty());
        if widget.greeting.as_ref().is_some_and(|g| g.chars().count() > 1000) {
            return Err(ValidationError::new(
                "greeting",
                "too_long",
                "must be at most 1000 characters",
            ));
        }
    }
    widget.active = draft.active.unwrap_or(widget.active);
    widget.ai_enabled = draft.ai_enabled.unwrap_or(widget.ai_enabled);
    widget.translation_enabled = draft.translation_enabled.unwrap_or(widget.translation_enabled);
    if let Some(color) = &draft.primary_color {
        widget.primary_color = validate_color(color)?;
    }
    if let Some(position) = &draft.position {
        widget.position = position.parse()?;
    }
    if let Some(origins) = &draft.allowed_origins {
        widget.allowed_origins = origins
            .iter()
            .enumerate()
            .map(|(i, o)| validate_origin(format!("allowed_origins[{i}]"), o))
            .collect::<Result<_, _>>()?;
    }
    if let Some(hours) = draft.office_hours.take() {
        if let Some(hours) = &hours {
            hours.check()?;
        }
        widget.office_hours = hours;
    }
    Ok(())
}

impl ConversationsService {
    fn seal_identity_secret(
        &self,
        widget: &Widget,
        secret: &Secret<String>,
    ) -> Result<String, ValidationError> {
        if secret.expose().len() < 16 {
            return Err(ValidationError::new(
                "identity_secret",
                "too_short",
                "use at least 16 characters (a random value)",
            ));
        }
        Ok(self.keyring.seal(widget.tenant_id.as_str(), secret.expose().as_bytes()))
    }

    /// Opens a widget's identity secret, if it has one.
    pub(crate) fn identity_secret(
        &self,
        stored: &StoredWidget,
    ) -> Result<Option<Secret<String>>, EngineError> {
        let Some(sealed) = &stored.identity_secret_sealed else { return Ok(None) };
        let plaintext =
            self.keyring.open(stored.widget.tenant_id.as_str(), sealed).map_err(|err| {
                EngineError::Internal(format!(
                    "identity secret of widget {}: {err}",
                    stored.widget.id
                ))
            })?;
        String::from_utf8(plaintext)
            .map(|s| Some(Secret::new(s)))
            .map_err(|_| EngineError::Internal("identity secret is not text".into()))
    }

    pub async fn create_widget(
        &self,
        actor: &Actor,
        mut draft: WidgetDraft,
    ) -> Result<WidgetView, EngineError> {
        actor.require(Role::Admin)?;
        if draft.name.is_none() {
            return Err(
                ValidationError::new("name", "missing_field", "missing field `name`").into()
            );
        }
        let now = Timestamp::now();
        let mut widget = Widget {
            id: WidgetId::new(),
            tenant_id: actor.tenant_id.clone(),
            name: String::new(),
            greeting: None,
            active: true,
            ai_enabled: false,
            translation_enabled: false,
            primary_color: DEFAULT_COLOR.into(),
            position: Default::default(),
            allowed_origins: Vec::new(),
            office_hours: None,
            created_at: now,
            updated_at: now,
        };
        apply(&mut widget, &mut draft)?;
        let sealed = match draft.identity_secret.flatten() {
            Some(secret) => Some(self.seal_identity_secret(&widget, &secret)?),
            None => None,
        };
        self.store.widgets.create_widget(&widget, sealed.as_deref()).await?;
        Ok(WidgetView { widget, identity_secret_set: sealed.is_some() })
    }

    pub async fn update_widget(
        &self,
        actor: &Actor,
        id: &WidgetId,
        mut draft: WidgetDraft,
    ) -> Result<WidgetView, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.widgets.get_widget(&actor.tenant_id, id).await?;
        let mut widget = stored.widget.clone();
        apply(&mut widget, &mut draft)?;
        widget.updated_at = Timestamp::now();
        let sealed = match draft.identity_secret {
            None => stored.identity_secret_sealed,
            Some(None) => None,
            Some(Some(secret)) => Some(self.seal_identity_secret(&widget, &secret)?),
        };
        self.store.widgets.update_widget(&widget, sealed.as_deref()).await?;
        Ok(WidgetView { widget, identity_secret_set: sealed.is_some() })
    }

    pub async fn get_widget(
        &self,
        actor: &Actor,
        id: &WidgetId,
    ) -> Result<WidgetView, EngineError> {
        let stored = self.store.widgets.get_widget(&actor.tenant_id, id).await?;
        Ok(WidgetView {
            identity_secret_set: stored.identity_secret_sealed.is_some(),
            widget: stored.widget,
        })
    }

    pub async fn list_widgets(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<WidgetView>, EngineError> {
        let page = self.store.widgets.list_widgets(&actor.tenant_id, page).await?;
        let items = page
            .items
            .into_iter()
            .map(|stored| WidgetView {
                identity_secret_set: stored.identity_secret_sealed.is_some(),
                widget: stored.widget,
            })
            .collect();
        Ok(Page { items, next: page.next })
    }

    pub async fn delete_widget(&self, actor: &Actor, id: &WidgetId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.widgets.delete_widget(&actor.tenant_id, id).await?)
    }
}
