//! The store's map. Two things make it more than a map of strings:
//!
//! - Keys are ordered by a fast hash before the key itself. Cached signature
//!   URLs share long prefixes (`https://m.example.com/...?id=`), so a plain
//!   ordered map spent most of a memory hit comparing them byte by byte; here
//!   a lookup compares 8-byte hashes and the key once. Equal hashes fall back
//!   to comparing keys, so colliding keys cost what an ordered map of strings
//!   does, never more (no hash-flooding cliff).
//! - Values live in a slab and every entry has a handle (slot + generation)
//!   that stays valid until the entry is removed. A host can remember a
//!   key's handle and ask about it later with two numbers instead of the key.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// FxHash-style mixing, a word at a time.
fn hash(key: &str) -> u64 {
    let mut h: u64 = key.len() as u64;
    for chunk in key.as_bytes().chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h
}

trait HashedKey {
    fn parts(&self) -> (u64, &str);
}

struct Owned {
    hash: u64,
    key: String,
}

impl HashedKey for Owned {
    fn parts(&self) -> (u64, &str) {
        (self.hash, &self.key)
    }
}

impl HashedKey for (u64, &str) {
    fn parts(&self) -> (u64, &str) {
        (self.0, self.1)
    }
}

impl PartialEq for dyn HashedKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn HashedKey + '_ {}

impl PartialOrd for dyn HashedKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn HashedKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl<'a> Borrow<dyn HashedKey + 'a> for Owned {
    fn borrow(&self) -> &(dyn HashedKey + 'a) {
        self
    }
}

impl PartialEq for Owned {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for Owned {}

impl PartialOrd for Owned {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Owned {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key)
    }
}

/// An entry's handle: its slot and the slot's generation when it was put
/// there; it crosses to JS as two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    pub slot: u32,
    /// Bumped at every change of the cell, never reused: 2^53 changes (the
    /// most a host's number holds) would take centuries at any real rate,
    /// so a handle can never name a later value by wrapping around.
    pub generation: u64,
}

#[derive(Debug)]
struct Cell<V> {
    value: Option<V>,
    generation: u64,
}

/// Cells in fixed-size chunks: a growing store never holds a doubled,
/// half-empty array (at 100k signatures that was ~25 bytes each).
const CHUNK: usize = 1024;

#[derive(Debug)]
struct Cells<V> {
    chunks: Vec<Vec<Cell<V>>>,
    len: usize,
}

impl<V> Cells<V> {
    fn get(&self, slot: u32) -> Option<&Cell<V>> {
        let i = slot as usize;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn get_mut(&mut self, slot: u32) -> Option<&mut Cell<V>> {
        let i = slot as usize;
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    fn push(&mut self, cell: Cell<V>) -> u32 {
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let last = self.chunks.len() - 1;
        self.chunks[last].push(cell);
        self.len += 1;
        (self.len - 1) as u32
    }

    fn iter(&self) -> impl Iterator<Item = &Cell<V>> {
        self.chunks.iter().flatten()
    }
}

impl<V> std::ops::Index<u32> for Cells<V> {
    type Output = Cell<V>;
    fn index(&self, slot: u32) -> &Cell<V> {
        self.get(slot).expect("a slot the index holds")
    }
}

impl<V> std::ops::IndexMut<u32> for Cells<V> {
    fn index_mut(&mut self, slot: u32) -> &mut Cell<V> {
        self.get_mut(slot).expect("a slot the index holds")
    }
}

#[derive(Debug)]
pub struct Keyed<V> {
    index: BTreeMap<Owned, u32>,
    cells: Cells<V>,
    free: Vec<u32>,
}

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed {
            index: BTreeMap::new(),
            cells: Cells {
                chunks: Vec::new(),
                len: 0,
            },
            free: Vec::new(),
        }
    }
}

impl<V> Keyed<V> {
    fn slot(&self, key: &str) -> Option<u32> {
        let probe = (hash(key), key);
        self.index.get(&probe as &dyn HashedKey).copied()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.cells[self.slot(key)?].value.as_ref()
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let slot = self.slot(key)?;
        self.cells[slot].value.as_mut()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.slot(key).is_some()
    }

    pub fn handle(&self, key: &str) -> Option<Handle> {
        let slot = self.slot(key)?;
        Some(Handle {
            slot,
            generation: self.cells[slot].generation,
        })
    }

    /// The value behind a handle, if that entry is still there.
    pub fn by_handle_mut(&mut self, handle: Handle) -> Option<&mut V> {
        let cell = self.cells.get_mut(handle.slot)?;
        if cell.generation != handle.generation {
            return None;
        }
        cell.value.as_mut()
    }

    /// The value it replaced, if any. A replaced value gets a new handle:
    /// a handle names one value, so a host that remembered it with the
    /// value learns that it changed.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        if let Some(slot) = self.slot(&key) {
            let cell = &mut self.cells[slot];
            cell.generation += 1;
            return cell.value.replace(value);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.cells[slot].value = Some(value);
                slot
            }
            None => self.cells.push(Cell {
                value: Some(value),
                generation: 0,
            }),
        };
        self.index.insert(
            Owned {
                hash: hash(&key),
                key,
            },
            slot,
        );
        None
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let probe = (hash(key), key);
        let slot = self.index.remove(&probe as &dyn HashedKey)?;
        let cell = &mut self.cells[slot];
        // A new generation: handles to what was here no longer match.
        cell.generation += 1;
        self.free.push(slot);
        cell.value.take()
    }

    pub fn clear(&mut self) {
        let keys: Vec<String> = self.index.keys().map(|k| k.key.clone()).collect();
        for key in keys {
            self.remove(&key);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.index
            .iter()
            .filter_map(|(k, slot)| self.cells[*slot].value.as_ref().map(|v| (&k.key, v)))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.cells.iter().filter_map(|c| c.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map_of_strings() {
        let mut m = Keyed::default();
        for i in 0..500 {
            assert!(m.insert(format!("https://a.test/?id={i:07}"), i).is_none());
        }
        assert_eq!(
            m.insert("https://a.test/?id=0000007".into(), 7_000),
            Some(7)
        );
        assert_eq!(m.get("https://a.test/?id=0000007"), Some(&7_000));
        assert_eq!(m.get("https://a.test/?id=0000500"), None);
        *m.get_mut("https://a.test/?id=0000001").unwrap() += 1;
        assert_eq!(m.remove("https://a.test/?id=0000001"), Some(2));
        assert!(!m.contains_key("https://a.test/?id=0000001"));
        assert_eq!(m.iter().count(), 499);
        assert_eq!(m.values().count(), 499);
        assert_eq!(hash(""), 0);
        assert_ne!(hash("ab"), hash("ba"));
    }

    #[test]
    fn a_handle_names_one_value() {
        let mut m = Keyed::default();
        m.insert("a".to_owned(), 1);
        let h = m.handle("a").unwrap();
        assert_eq!(m.by_handle_mut(h).copied(), Some(1));
        m.insert("a".to_owned(), 2);
        assert_eq!(m.by_handle_mut(h), None, "replaced: a new handle");
        let h = m.handle("a").unwrap();
        assert_eq!(m.by_handle_mut(h).copied(), Some(2));
        m.remove("a");
        assert_eq!(m.by_handle_mut(h), None);
        // The slot is reused by another key: the old handle still misses.
        m.insert("b".to_owned(), 3);
        assert_eq!(m.handle("b").unwrap().slot, h.slot);
        assert_eq!(m.by_handle_mut(h), None);
        m.clear();
        assert_eq!(m.iter().count(), 0);
    }
}
