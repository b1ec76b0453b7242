/// Named uniqueness constraints. Both backends create them under these exact names, so the API
/// can turn a violation into a precise 409 without checking first (which would race).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    UserEmail,
    ApiKeyName,
    ApiKeyHash,
    TeamName,
    TeamMember,
    ConnectionName,
    EndpointName,
    LabelName,
    CannedShortcut,
    ContactUser,
    ContactBrowser,
    ChannelName,
    ChannelThread,
}

impl Constraint {
    pub const ALL: [Constraint; 13] = [
        Constraint::UserEmail,
        Constraint::ApiKeyName,
        Constraint::ApiKeyHash,
        Constraint::TeamName,
        Constraint::TeamMember,
        Constraint::ConnectionName,
        Constraint::EndpointName,
        Constraint::LabelName,
        Constraint::CannedShortcut,
        Constraint::ContactUser,
        Constraint::ContactBrowser,
        Constraint::ChannelName,
        Constraint::ChannelThread,
    ];

    /// The constraint's name in both schemas.
    pub fn name(self) -> &'static str {
        match self {
            Constraint::UserEmail => "users_email_key",
            Constraint::ApiKeyName => "api_keys_tenant_name_key",
            Constraint::ApiKeyHash => "api_keys_key_hash_key",
            Constraint::TeamName => "teams_tenant_name_key",
            Constraint::TeamMember => "team_members_pkey",
            Constraint::ConnectionName => "connections_tenant_name_key",
            Constraint::EndpointName => "endpoints_tenant_name_key",
            Constraint::LabelName => "labels_tenant_name_key",
            Constraint::CannedShortcut => "canned_replies_tenant_shortcut_key",
            Constraint::ContactUser => "contacts_tenant_user_key",
            Constraint::ContactBrowser => "contacts_tenant_browser_key",
            Constraint::ChannelName => "channels_tenant_name_key",
            Constraint::ChannelThread => "channel_threads_thread_key",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// No such row for this tenant (which includes rows that belong to another tenant).
    #[error("not found")]
    NotFound,
    #[error("conflicts with an existing row ({})", .0.name())]
    Conflict(Constraint),
    /// A referenced row (of this tenant) does not exist.
    #[error("a referenced row does not exist")]
    MissingReference,
    /// The database cannot be reached or is shutting down: worth a 503 and a retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
