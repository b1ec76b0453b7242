//! Tenant-supplied regular expressions: compiled with size limits (the `regex` crate matches in
//! linear time, but compiling a huge pattern could still eat memory), and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex::{Regex, RegexBuilder};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 1000;
const SIZE_LIMIT: usize = 1 << 20;
const CACHE_LIMIT: usize = 4096;

/// Compiles `pattern` anchored at both ends: the whole value must match.
pub fn compile(pattern: &str) -> Result<Arc<Regex>, String> {
    cached(pattern, true, false)
}

/// Compiles `pattern` to search anywhere in a text, optionally ignoring case.
pub fn compile_search(pattern: &str, case_insensitive: bool) -> Result<Arc<Regex>, String> {
    cached(pattern, false, case_insensitive)
}

fn cached(pattern: &str, anchored: bool, case_insensitive: bool) -> Result<Arc<Regex>, String> {
    /// Compiled patterns by source, one map per (anchored, case-insensitive) pair, so that a
    /// lookup borrows the pattern instead of copying it (rules look theirs up per message).
    type Cache = Mutex<[HashMap<String, Arc<Regex>>; 4]>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let kind = usize::from(anchored) * 2 + usize::from(case_insensitive);
    if let Some(found) = cache.lock().unwrap_or_else(|p| p.into_inner())[kind].get(pattern) {
        return Ok(found.clone());
    }
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("the pattern is longer than {MAX_PATTERN_LEN} characters"));
    }
    let source = if anchored { format!("^(?:{pattern})$") } else { pattern.to_owned() };
    let regex = RegexBuilder::new(&source)
        .case_insensitive(case_insensitive)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|err| format!("invalid pattern: {err}"))?;
    let regex = Arc::new(regex);
    let mut caches = cache.lock().unwrap_or_else(|p| p.into_inner());
    let cache = &mut caches[kind];
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}
