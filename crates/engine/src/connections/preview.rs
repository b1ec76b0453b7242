//! Previewing a response mapping against a sample answer, for the dashboard's live preview.

use std::collections::BTreeMap;

use sb_connectors::mapping;
use sb_domain::Role;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::endpoints::response_mapping;
use crate::{Actor, ConnectionsService, EngineError};

/// What a mapping takes from a sample answer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MappingPreview {
    /// Variable → the value it would be set to.
    pub mapped: BTreeMap<String, Value>,
    /// Variables whose path is absent from the sample (they would not be set).
    pub missing: Vec<String>,
    /// Lists cut to their first elements, values too large to keep.
    pub notes: Vec<String>,
}

impl ConnectionsService {
    /// Applies `mapping` (variable → path) to `sample` with the code real calls use, after the
    /// validation endpoints get: a path an endpoint could not save is refused here too.
    pub fn preview_mapping(
        &self,
        actor: &Actor,
        mapping: &BTreeMap<String, String>,
        sample: &Value,
    ) -> Result<MappingPreview, EngineError> {
        actor.require(Role::Admin)?;
        response_mapping(mapping)?;
        let applied = mapping::apply(mapping, sample);
        // `apply` lists absent paths (as the endpoint test shows them); the preview is a row per
        // variable, so it names the variables. A value left out for its size is in the notes.
        let missing = mapping
            .iter()
            .filter(|(variable, path)| {
                !applied.values.contains_key(*variable) && applied.missing.contains(path)
            })
            .map(|(variable, _)| variable.clone())
            .collect();
        Ok(MappingPreview { mapped: applied.values, missing, notes: applied.notes })
    }
}
