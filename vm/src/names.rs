//! The pup's name service: procedure (and global) names to procedure IDs.
//!
//! Invariant: an ID, once given to a name, names it in every version; new
//! names get new IDs; IDs of removed names are never reused.

use crate::layout::MAX_PROC_ID;
use std::collections::HashMap;

// One home per fact: the compiler refuses a program of more names than
// this pup could give IDs (`compiler::limits::MAX_NAMES`).
const _: () = assert!(MAX_PROC_ID as u64 + 1 == compiler::limits::MAX_NAMES);

/// Every procedure ID is taken: `name` would need one past the last.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("name service full: {name} would be name number {number}")]
pub struct NamesFull {
    /// The name that found no ID.
    pub name: String,
    /// Its number (1-based) among the names.
    pub number: u64,
}

/// Name → ID, stable across versions.
#[derive(Debug, Default, Clone)]
pub struct NameService {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl NameService {
    /// The ID of `name`, assigning the next free one on first sight.
    pub fn intern(&mut self, name: &str) -> Result<u32, NamesFull> {
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let id = self.names.len() as u32;
        if id > MAX_PROC_ID {
            return Err(NamesFull {
                name: name.to_string(),
                number: id as u64 + 1,
            });
        }
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        Ok(id)
    }

    /// The ID of a known name.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name of an ID.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|s| s.as_str())
    }

    /// How many names have been given IDs.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True before the first load.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_never_reused() {
        let mut ns = NameService::default();
        let a = ns.intern("main").unwrap();
        let b = ns.intern("do_pizza").unwrap();
        assert_eq!(ns.intern("main").unwrap(), a);
        let c = ns.intern("new_proc").unwrap();
        assert!(a != b && b != c && a != c);
        assert_eq!(ns.name(b), Some("do_pizza"));
    }
}
