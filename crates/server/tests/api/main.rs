//! Black-box tests of the HTTP API: the real server on a real port, a real SQLite file, and
//! PostgreSQL as well when `TEST_POSTGRES_URL` is set.

mod accounts;
mod ai;
mod api_keys;
mod architecture;
mod backend;
mod cli;
mod cluster;
mod config_api;
mod config_cache;
mod conformance;
mod connections;
mod demo;
mod docs;
mod endpoint_cache;
mod endpoint_health;
mod endpoints;
mod errors;
mod fair_imports;
mod faults;
mod health;
mod hostile_bodies;
mod inbox;
mod isolation_crawl;
mod kb;
mod kb_answers;
mod keys;
mod mapping_preview;
mod openapi;
mod openapi_import;
mod outage;

mod passwords;
mod patterns;
mod realtime;
mod rule_behaviour;
mod safe_actions;
mod secrets;
mod shown_requests;
mod slow_clients;
mod support;
mod tenancy;
mod users_teams;
mod verified_identity;
mod visitor_api;
mod webhooks;
