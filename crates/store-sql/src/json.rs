//! JSON columns: written as text, read back into domain types.

use sb_store::{StoreError, StoreResult};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Row;

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Domain types always serialise; a failure here would be a programming error.
    serde_json::to_string(value).unwrap_or_else(|err| panic!("serialising a stored value: {err}"))
}

impl Row {
    pub fn json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<T> {
        let text = self.text(column)?;
        serde_json::from_str(&text)
            .map_err(|err| StoreError::Internal(format!("column {column}: {err}")))
    }

    pub fn opt_json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<Option<T>> {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|err| StoreError::Internal(format!("column {column}: {err}"))),
        }
    }
}
