//! For the services' unit tests: every service over a fresh SQLite file, and callers of each
//! role in one tenant plus an owner of another tenant.

use std::sync::Arc;
use std::time::Duration;

use sb_connectors::Connector;
use sb_domain::events::NoEvents;
use sb_domain::{Role, TenantId};
use sb_net::{HttpClient, NetConfig, SsrfPolicy};
use sb_secrets::{Keyring, MasterKey, Secret};

use crate::accounts::{CreateUser, SignUp};
use crate::ai::{Ai, AiConfig};
use crate::kb::Knowledge;
use crate::{Actor, Credential, EngineError, Parts, Services};

pub(crate) struct World {
    pub services: Services,
    pub owner: Actor,
    pub admin: Actor,
    pub operator: Actor,
    /// The owner of another tenant.
    pub stranger: Actor,
    _dir: tempfile::TempDir,
}

fn actor(tenant: &TenantId, user: sb_domain::User) -> Actor {
    Actor {
        tenant_id: tenant.clone(),
        role: user.role,
        user_id: Some(user.id),
        credential: Credential::CommandLine,
    }
}

fn http() -> HttpClient {
    HttpClient::new(SsrfPolicy::new(Vec::new()), NetConfig::default()).expect("http client")
}

fn services(store: Arc<dyn sb_store::Store>) -> Services {
    let keyring = Arc::new(Keyring::new(MasterKey::from_bytes([7; 32]), Vec::new()));
    let connector = Arc::new(Connector::new(http()));
    let config = AiConfig {
        server: None,
        timeout: Duration::from_secs(5),
        max_tool_rounds: 3,
        history_messages: 20,
    };
    let ai = Ai { config, tenant_http: http(), operator_http: http() };
    Services::new(Parts {
        store,
        keyring,
        connector,
        events: Arc::new(NoEvents),
        ai,
        knowledge_index: Knowledge::open(None, http()).expect("knowledge index"),
        outbound_calls_per_minute: 100,
        action_lifetime: std::time::Duration::from_secs(600),
        scratch: Arc::new(Scratch),
    })
}

/// Test runs' sandboxes in scratch SQLite files, as the server makes them.
struct Scratch;

#[async_trait::async_trait]
impl crate::suites::ScratchStores for Scratch {
    async fn open(
        &self,
    ) -> Result<(Arc<dyn sb_store::Store>, Box<dyn std::any::Any + Send>), sb_store::StoreError>
    {
        let scratch = sb_store_sqlite::scratch().await?;
        let store: Arc<dyn sb_store::Store> = scratch.store.clone();
        Ok((store, Box::new(scratch)))
    }
}

pub(crate) async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = sb_store_sqlite::connect(&url, &Default::default()).await.expect("open SQLite");
    sb_store_sqlite::migrate(&store).await.expect("migrate");
    let services = services(Arc::new(store));
    let password = || Secret::new("a long enough password".to_owned());
    let sign_up = |tenant: &str, email: &str| SignUp {
        tenant_name: tenant.into(),
        email: email.into(),
        password: password(),
    };
    let accounts = &services.accounts;
    let (tenant, owner) = accounts.sign_up(sign_up("Acme", "owner@acme.test")).await.unwrap();
    let owner = actor(&tenant.id, owner);
    let member = async |email: &str, role| {
        let input = CreateUser { email: email.into(), password: password(), role };
        actor(&tenant.id, accounts.create_user(&owner, input).await.unwrap())
    };
    let admin = member("admin@acme.test", Role::Admin).await;
    let operator = member("operator@acme.test", Role::Operator).await;
    let (other, stranger) = accounts.sign_up(sign_up("Other", "owner@other.test")).await.unwrap();
    let stranger = actor(&other.id, stranger);
    World { services, owner, admin, operator, stranger, _dir: dir }
}

/// What a result was, for assertion messages (not every result type prints).
fn outcome<T>(result: &Result<T, EngineError>) -> String {
    match result {
        Ok(_) => "success".into(),
        Err(err) => format!("{err:?}"),
    }
}

/// The caller lacks the role: refused before anything is read or written.
#[track_caller]
pub(crate) fn assert_forbidden<T>(result: Result<T, EngineError>) {
    let forbidden = matches!(result, Err(EngineError::Forbidden(_)));
    assert!(forbidden, "expected forbidden, got {}", outcome(&result));
}

/// The caller has the role: whatever else happens (the input may be invalid), it is not refused
/// for lack of one.
#[track_caller]
pub(crate) fn assert_permitted<T>(result: Result<T, EngineError>) {
    let forbidden = matches!(result, Err(EngineError::Forbidden(_)));
    assert!(!forbidden, "expected permitted, got {}", outcome(&result));
}

/// Another tenant's object does not exist for the caller.
#[track_caller]
pub(crate) fn assert_not_found<T>(result: Result<T, EngineError>) {
    let not_found = matches!(result, Err(EngineError::Store(sb_store::StoreError::NotFound)));
    assert!(not_found, "expected not found, got {}", outcome(&result));
}
