//! Change tracking: [`Table`] (a map of records) and [`Tracked`] (a single value) remember what
//! changed, and [`Changes`] holds the changed records as rows to write, so that persisting a
//! mutation costs O(change).

use std::collections::{btree_map, BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// One change to write, borrowed from [`Changes`]: a record put (its JSON) or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    /// App id (`""` for state outside apps).
    pub app: &'a str,
    /// Which collection (`users`, `otps`, ...).
    pub kind: &'static str,
    /// Record key.
    pub key: &'a str,
    /// The record's JSON, or `None` when it was removed.
    pub value: Option<&'a [u8]>,
}

/// Changes to write, in order. The ids and the records' JSON are appended to two buffers, so a
/// mutation's changes cost a few allocations whatever their number (they are made on one thread
/// and dropped on the writer's).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    text: String,
    json: Vec<u8>,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Item {
    kind: &'static str,
    app: std::ops::Range<usize>,
    key: std::ops::Range<usize>,
    value: Option<std::ops::Range<usize>>,
}

impl Changes {
    fn push_text(&mut self, s: &str) -> std::ops::Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    fn push(
        &mut self,
        app: &str,
        kind: &'static str,
        key: &str,
        value: Option<std::ops::Range<usize>>,
    ) {
        let (app, key) = (self.push_text(app), self.push_text(key));
        self.items.push(Item {
            kind,
            app,
            key,
            value,
        });
    }

    /// A record put, as its JSON.
    pub fn put(&mut self, app: &str, kind: &'static str, key: &str, record: &impl Serialize) {
        let start = self.json.len();
        serde_json::to_writer(&mut self.json, record).expect("records serialize");
        let value = start..self.json.len();
        self.push(app, kind, key, Some(value));
    }

    /// A value put as it is.
    pub fn put_bytes(&mut self, app: &str, kind: &'static str, key: &str, value: &[u8]) {
        let start = self.json.len();
        self.json.extend_from_slice(value);
        let value = start..self.json.len();
        self.push(app, kind, key, Some(value));
    }

    /// A record removed.
    pub fn delete(&mut self, app: &str, kind: &'static str, key: &str) {
        self.push(app, kind, key, None);
    }

    /// Forgets the changes, keeping the buffers for the next ones.
    pub fn clear(&mut self) {
        self.text.clear();
        self.json.clear();
        self.items.clear();
    }

    /// Bytes its buffers hold.
    pub fn capacity(&self) -> usize {
        self.text.capacity()
            + self.json.capacity()
            + self.items.capacity() * std::mem::size_of::<Item>()
    }

    /// Number of changes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The changes, in order.
    pub fn iter(&self) -> impl Iterator<Item = Change<'_>> {
        self.items.iter().map(|item| Change {
            app: &self.text[item.app.clone()],
            kind: item.kind,
            key: &self.text[item.key.clone()],
            value: item.value.clone().map(|v| &self.json[v]),
        })
    }

    /// The last change of each record among `changes` (in the order each record first changed).
    pub fn coalesce<'a>(changes: impl IntoIterator<Item = Change<'a>>) -> Self {
        let mut last: HashMap<(&str, &str, &str), usize> = HashMap::new();
        let mut kept: Vec<Change<'a>> = Vec::new();
        for change in changes {
            match last.entry((change.app, change.kind, change.key)) {
                std::collections::hash_map::Entry::Occupied(i) => kept[*i.get()] = change,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(kept.len());
                    kept.push(change);
                }
            }
        }
        let mut out = Self::default();
        for change in kept {
            match change.value {
                Some(value) => out.put_bytes(change.app, change.kind, change.key, value),
                None => out.delete(change.app, change.kind, change.key),
            }
        }
        out
    }
}

/// A map from string keys to records that tracks the keys changed since the last
/// [`Table::drain_changes`]. Reads go through `Deref` to the map; every way of changing it is a
/// method here, and marks what it touches. A table may keep a secondary index
/// ([`Table::with_index`]) from terms of its records (e.g. a user's e-mail and phone) to keys.
#[derive(Debug, Clone)]
pub struct Table<V> {
    map: BTreeMap<String, V>,
    dirty: BTreeSet<String>,
    index: Option<Index<V>>,
}

/// Terms -> key. Records handed out mutably (`get_mut`) may have changed their terms: they are
/// `touched` and re-indexed at the next drain; lookups check them first.
#[derive(Clone)]
struct Index<V> {
    terms: fn(&V) -> Vec<String>,
    by_term: HashMap<String, String>,
    terms_of: HashMap<String, Vec<String>>,
    touched: BTreeSet<String>,
}

impl<V> std::fmt::Debug for Index<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("terms", &self.by_term.len())
            .finish_non_exhaustive()
    }
}

impl<V> Index<V> {
    fn remove(&mut self, key: &str) {
        for term in self.terms_of.remove(key).unwrap_or_default() {
            if self.by_term.get(&term).is_some_and(|k| k == key) {
                self.by_term.remove(&term);
            }
        }
    }

    fn put(&mut self, key: &str, value: &V) {
        self.remove(key);
        let terms = (self.terms)(value);
        for term in &terms {
            self.by_term.insert(term.clone(), key.to_owned());
        }
        self.terms_of.insert(key.to_owned(), terms);
    }
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            dirty: BTreeSet::new(),
            index: None,
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
    /// Keeps an index from `terms(record)` to keys (built now from the current records).
    pub fn with_index(mut self, terms: fn(&V) -> Vec<String>) -> Self {
        let mut index = Index {
            terms,
            by_term: HashMap::new(),
            terms_of: HashMap::new(),
            touched: BTreeSet::new(),
        };
        for (key, value) in &self.map {
            index.put(key, value);
        }
        self.index = Some(index);
        self
    }

    /// The record indexed under `term` for which `matches` holds (O(1) plus the records handed out
    /// mutably since the last drain). Needs [`Table::with_index`].
    pub fn lookup(&self, term: &str, matches: impl Fn(&V) -> bool) -> Option<&V> {
        let Some(index) = self.index.as_ref() else {
            return self.map.values().find(|v| matches(v));
        };
        for key in &index.touched {
            if let Some(value) = self.map.get(key).filter(|v| matches(v)) {
                return Some(value);
            }
        }
        let key = index.by_term.get(term)?;
        if index.touched.contains(key) {
            return None;
        }
        self.map.get(key).filter(|v| matches(v))
    }

    /// Inserts or replaces a record.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        if let Some(index) = &mut self.index {
            index.put(&key, &value);
            index.touched.remove(&key);
        }
        self.dirty.insert(key.clone());
        self.map.insert(key, value)
    }

    /// Mutable access to a record (marked changed).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let value = self.map.get_mut(key)?;
        if !self.dirty.contains(key) {
            self.dirty.insert(key.to_owned());
        }
        if let Some(index) = &mut self.index {
            if !index.touched.contains(key) {
                index.touched.insert(key.to_owned());
            }
        }
        Some(value)
    }

    /// Removes a record.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let removed = self.map.remove(key)?;
        if let Some(index) = &mut self.index {
            index.remove(key);
            index.touched.remove(key);
        }
        self.dirty.insert(key.to_owned());
        Some(removed)
    }

    /// Keeps the records for which `keep` is true (it sees them read-only).
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &V) -> bool) {
        let dirty = &mut self.dirty;
        let mut index = self.index.as_mut();
        self.map.retain(|k, v| {
            let kept = keep(k, v);
            if !kept {
                dirty.insert(k.clone());
                if let Some(index) = index.as_mut() {
                    index.remove(k);
                    index.touched.remove(k);
                }
            }
            kept
        });
    }

    /// Removes every record (each one a change).
    pub fn clear(&mut self) {
        self.dirty.extend(std::mem::take(&mut self.map).into_keys());
        if let Some(index) = &mut self.index {
            index.by_term.clear();
            index.terms_of.clear();
            index.touched.clear();
        }
    }

    /// Mutable access to every record (all marked changed: O(records); for rare operations).
    pub fn values_mut(&mut self) -> btree_map::ValuesMut<'_, String, V> {
        self.dirty.extend(self.map.keys().cloned());
        if let Some(index) = &mut self.index {
            index.touched.extend(self.map.keys().cloned());
        }
        self.map.values_mut()
    }

    /// Re-indexes the records handed out mutably.
    fn reindex_touched(&mut self) {
        if let Some(index) = &mut self.index {
            for key in std::mem::take(&mut index.touched) {
                match self.map.get(&key) {
                    Some(value) => index.put(&key, value),
                    None => index.remove(&key),
                }
            }
        }
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
        out: &mut Changes,
    ) {
        self.reindex_touched();
        let dirty = std::mem::take(&mut self.dirty);
        if !serialize {
            return;
        }
        for key in dirty {
            match self.map.get(&key) {
                Some(record) => out.put(app, kind, &key, record),
                None => out.delete(app, kind, &key),
            }
        }
    }

    /// Every record as a change (for the first write of a new store).
    pub fn all_changes(&self, app: &str, kind: &'static str, out: &mut Changes) {
        for (key, record) in &self.map {
            out.put(app, kind, key, record);
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
            index: None,
        })
    }
}

/// A single value (an app's settings, its keys) that remembers whether it was handed out mutably
/// since the last [`Tracked::take_changed`], so that only a changed value is written. Reads go
/// through `Deref`; any `DerefMut` access counts as a change.
#[derive(Debug, Clone, Default)]
pub struct Tracked<T> {
    value: T,
    changed: bool,
}

impl<T> Tracked<T> {
    /// A new value (a change until the next [`Tracked::take_changed`]).
    pub fn new(value: T) -> Self {
        Self {
            value,
            changed: true,
        }
    }

    /// Whether the value changed since the last call; forgets it.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }
}

impl<T> From<T> for Tracked<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T> std::ops::Deref for Tracked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.changed = true;
        &mut self.value
    }
}

impl<T: Serialize> Serialize for Tracked<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tracked<T> {
    /// A value read back is not a change (as for [`Table`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            value: T::deserialize(deserializer)?,
            changed: false,
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
            index: None,
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
        let mut out = Changes::default();
        t.drain_changes("app", "n", true, &mut out);
        assert!(out.is_empty(), "loaded records are not changes");
        t.insert("c".into(), 3);
        *t.get_mut("a").unwrap() = 10;
        assert!(t.get_mut("missing").is_none());
        t.retain(|k, _| k != "b");
        t.drain_changes("app", "n", true, &mut out);
        let summary: Vec<(&str, &str, Option<&[u8]>)> =
            out.iter().map(|c| (c.app, c.key, c.value)).collect();
        assert_eq!(
            summary,
            vec![
                ("app", "a", Some(&b"10"[..])),
                ("app", "b", None),
                ("app", "c", Some(&b"3"[..])),
            ]
        );
        let mut out = Changes::default();
        t.drain_changes("app", "n", true, &mut out);
        assert!(out.is_empty());
        assert_eq!(t.get("a"), Some(&10));
    }

    #[test]
    fn coalescing_keeps_the_last_change_of_each_record() {
        let mut first = Changes::default();
        first.put("a", "users", "u1", &1);
        first.put("a", "otps", "o1", &2);
        first.put("b", "users", "u1", &3);
        let mut second = Changes::default();
        second.delete("a", "otps", "o1");
        second.put("a", "users", "u1", &4);
        let merged = Changes::coalesce(first.iter().chain(second.iter()));
        let summary: Vec<(&str, &str, &str, Option<&[u8]>)> = merged
            .iter()
            .map(|c| (c.app, c.kind, c.key, c.value))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a", "users", "u1", Some(&b"4"[..])),
                ("a", "otps", "o1", None),
                ("b", "users", "u1", Some(&b"3"[..])),
            ]
        );
    }

    #[test]
    fn a_tracked_value_changes_only_through_mutable_access() {
        let mut v = Tracked::new(vec![1]);
        assert!(v.take_changed(), "a new value is a change");
        assert!(!v.take_changed());
        assert_eq!(v.len(), 1);
        assert!(!v.take_changed(), "reads are not changes");
        v.push(2);
        assert!(v.take_changed());
        let read: Tracked<Vec<i32>> = serde_json::from_str("[3]").unwrap();
        assert!(
            !read.clone().take_changed(),
            "a value read back is not a change"
        );
        assert_eq!(serde_json::to_string(&read).unwrap(), "[3]");
    }

    #[test]
    fn the_index_follows_inserts_changes_and_removals() {
        let terms = |v: &String| vec![v.clone()];
        let mut t: Table<String> = [("k1".to_owned(), "x".to_owned())]
            .into_iter()
            .collect::<Table<String>>()
            .with_index(terms);
        let is = |want: &'static str| move |v: &String| v == want;
        assert_eq!(t.lookup("x", is("x")), Some(&"x".to_owned()));
        t.insert("k2".into(), "y".into());
        assert_eq!(t.lookup("y", is("y")), Some(&"y".to_owned()));
        *t.get_mut("k1").unwrap() = "z".into();
        // Before and after the next drain, the changed record is found by its new term only.
        assert_eq!(t.lookup("x", is("x")), None);
        assert_eq!(t.lookup("z", is("z")), Some(&"z".to_owned()));
        t.drain_changes("", "n", false, &mut Changes::default());
        assert_eq!(t.lookup("x", is("x")), None);
        assert_eq!(t.lookup("z", is("z")), Some(&"z".to_owned()));
        t.remove("k2");
        assert_eq!(t.lookup("y", is("y")), None);
    }
}
