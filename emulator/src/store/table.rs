//! [`Table`]: a map of records that remembers which keys changed, so that persisting a mutation
//! costs O(change).

use std::collections::{btree_map, BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One change to write: a record put (its JSON) or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// App id (`""` for state outside apps).
    pub app: String,
    /// Which collection (`users`, `otps`, ...).
    pub kind: &'static str,
    /// Record key.
    pub key: String,
    /// The record's JSON, or `None` when it was removed.
    pub value: Option<Vec<u8>>,
}

/// A map from string keys to records that tracks the keys changed since the last
/// [`Table::drain_changes`]. Reads go through `Deref` to the map; every way of changing it is a
/// method here, and marks what it touches.
#[derive(Debug, Clone)]
pub struct Table<V> {
    map: BTreeMap<String, V>,
    dirty: BTreeSet<String>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            dirty: BTreeSet::new(),
        }
    }
}

impl<V> std::ops::Deref for Table<V> {
    type Target = BTreeMap<String, V>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<V> Table<V> {
    /// Inserts or replaces a record.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        self.dirty.insert(key.clone());
        self.map.insert(key, value)
    }

    /// Mutable access to a record (marked changed).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let value = self.map.get_mut(key)?;
        if !self.dirty.contains(key) {
            self.dirty.insert(key.to_owned());
        }
        Some(value)
    }

    /// Removes a record.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let removed = self.map.remove(key)?;
        self.dirty.insert(key.to_owned());
        Some(removed)
    }

    /// Keeps the records for which `keep` is true (it sees them read-only).
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &V) -> bool) {
        let dirty = &mut self.dirty;
        self.map.retain(|k, v| {
            let kept = keep(k, v);
            if !kept {
                dirty.insert(k.clone());
            }
            kept
        });
    }

    /// Removes every record (each one a change).
    pub fn clear(&mut self) {
        self.dirty.extend(std::mem::take(&mut self.map).into_keys());
    }

    /// Mutable access to every record (all marked changed: O(records); for rare operations).
    pub fn values_mut(&mut self) -> btree_map::ValuesMut<'_, String, V> {
        self.dirty.extend(self.map.keys().cloned());
        self.map.values_mut()
    }

    /// Keys changed since the last drain (for indexes kept beside the table).
    pub fn pending(&self) -> impl Iterator<Item = &String> {
        self.dirty.iter()
    }
}

impl<V: Serialize> Table<V> {
    /// Appends the changes since the last call to `out` (with the records' JSON when `serialize`)
    /// and forgets them.
    pub fn drain_changes(
        &mut self,
        app: &str,
        kind: &'static str,
        serialize: bool,
        out: &mut Vec<Change>,
    ) {
        for key in std::mem::take(&mut self.dirty) {
            if !serialize {
                continue;
            }
            let value = self
                .map
                .get(&key)
                .map(|v| serde_json::to_vec(v).expect("records serialize"));
            out.push(Change {
                app: app.to_owned(),
                kind,
                key,
                value,
            });
        }
    }

    /// Every record as a change (for the first write of a new store).
    pub fn all_changes(&self, app: &str, kind: &'static str, out: &mut Vec<Change>) {
        for (key, value) in &self.map {
            out.push(Change {
                app: app.to_owned(),
                kind,
                key: key.clone(),
                value: Some(serde_json::to_vec(value).expect("records serialize")),
            });
        }
    }
}

impl<V: Serialize> Serialize for Table<V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(serializer)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Table<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            map: BTreeMap::deserialize(deserializer)?,
            dirty: BTreeSet::new(),
        })
    }
}

impl<'a, V> IntoIterator for &'a Table<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = btree_map::Iter<'a, String, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl<V> FromIterator<(String, V)> for Table<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        Self {
            map: iter.into_iter().collect(),
            dirty: BTreeSet::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_is_drained_once() {
        let mut t: Table<i32> = [("a".to_owned(), 1), ("b".to_owned(), 2)]
            .into_iter()
            .collect();
        let mut out = Vec::new();
        t.drain_changes("app", "n", true, &mut out);
        assert!(out.is_empty(), "loaded records are not changes");
        t.insert("c".into(), 3);
        *t.get_mut("a").unwrap() = 10;
        assert!(t.get_mut("missing").is_none());
        t.retain(|k, _| k != "b");
        t.drain_changes("app", "n", true, &mut out);
        let summary: Vec<(String, Option<Vec<u8>>)> = out
            .iter()
            .map(|c| (c.key.clone(), c.value.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a".into(), Some(b"10".to_vec())),
                ("b".into(), None),
                ("c".into(), Some(b"3".to_vec())),
            ]
        );
        out.clear();
        t.drain_changes("app", "n", true, &mut out);
        assert!(out.is_empty());
        assert_eq!(t.get("a"), Some(&10));
    }
}
