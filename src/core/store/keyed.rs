//! The store's map. Two things make it more than a map of strings:
//!
//! - Entries are found by a keyed 128-bit digest of their key (see
//!   `siphash`), not by the key text. A store with no backend never needs
//!   the text again (nothing is written anywhere), so it does not keep it:
//!   100k cached signature URLs are ~8 MB it would otherwise hold twice,
//!   once here and once in the caller's frozen info. A store with a backend
//!   keeps each key's text beside its slot, to name what it writes.
//! - Values live in a slab and every entry has a handle (slot + generation)
//!   that stays valid until the entry is removed. A host can remember a
//!   key's handle and ask about it later with two numbers instead of the key.

use super::siphash::digest;
pub use super::siphash::Digest;
use std::collections::BTreeMap;

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
    hash_key: [u64; 2],
    index: BTreeMap<Digest, u32>,
    cells: Cells<V>,
    free: Vec<u32>,
    /// Each slot's key text, when the owner asked to keep it.
    texts: Option<Vec<Option<Box<str>>>>,
}

impl<V> Keyed<V> {
    /// `hash_key`: host entropy, so no caller can pick colliding keys.
    /// `keep_texts`: whether `text` must be able to name each entry's key.
    pub fn new(hash_key: [u64; 2], keep_texts: bool) -> Keyed<V> {
        Keyed {
            hash_key,
            index: BTreeMap::new(),
            cells: Cells {
                chunks: Vec::new(),
                len: 0,
            },
            free: Vec::new(),
            texts: keep_texts.then(Vec::new),
        }
    }

    pub fn digest(&self, key: &str) -> Digest {
        digest(self.hash_key, key.as_bytes())
    }

    fn slot(&self, key: &str) -> Option<u32> {
        self.index.get(&self.digest(key)).copied()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.cells[self.slot(key)?].value.as_ref()
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let slot = self.slot(key)?;
        self.cells[slot].value.as_mut()
    }

    pub fn get_at(&self, at: Digest) -> Option<&V> {
        self.cells[*self.index.get(&at)?].value.as_ref()
    }

    pub fn get_mut_at(&mut self, at: Digest) -> Option<&mut V> {
        let slot = *self.index.get(&at)?;
        self.cells[slot].value.as_mut()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.slot(key).is_some()
    }

    /// The key text of an entry, when texts are kept.
    pub fn text(&self, at: Digest) -> Option<&str> {
        let slot = *self.index.get(&at)?;
        self.texts.as_ref()?.get(slot as usize)?.as_deref()
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
        let at = self.digest(&key);
        if let Some(&slot) = self.index.get(&at) {
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
        if let Some(texts) = &mut self.texts {
            let i = slot as usize;
            if texts.len() <= i {
                texts.resize_with(i + 1, || None);
            }
            texts[i] = Some(key.into_boxed_str());
        }
        self.index.insert(at, slot);
        None
    }

    pub fn remove_at(&mut self, at: Digest) -> Option<V> {
        let slot = self.index.remove(&at)?;
        let cell = &mut self.cells[slot];
        // A new generation: handles to what was here no longer match.
        cell.generation += 1;
        self.free.push(slot);
        if let Some(text) = self.texts.as_mut().and_then(|t| t.get_mut(slot as usize)) {
            *text = None;
        }
        cell.value.take()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Digest, &V)> {
        self.index
            .iter()
            .filter_map(|(at, slot)| self.cells[*slot].value.as_ref().map(|v| (*at, v)))
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
        let mut m = Keyed::new([3, 4], true);
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
        assert_eq!(m.remove_at(m.digest("https://a.test/?id=0000001")), Some(2));
        assert!(!m.contains_key("https://a.test/?id=0000001"));
        assert_eq!(m.iter().count(), 499);
        assert_eq!(m.values().count(), 499);
        let at = m.digest("https://a.test/?id=0000002");
        assert_eq!(m.text(at), Some("https://a.test/?id=0000002"));
        assert_eq!(m.remove_at(at), Some(2));
        assert_eq!(m.text(at), None);
        // Without texts, the map still finds every key by its digest.
        let mut bare = Keyed::new([3, 4], false);
        bare.insert("a".to_owned(), 1);
        assert_eq!(bare.get("a"), Some(&1));
        assert_eq!(bare.text(bare.digest("a")), None);
    }

    #[test]
    fn a_handle_names_one_value() {
        let mut m = Keyed::new([5, 6], false);
        m.insert("a".to_owned(), 1);
        let h = m.handle("a").unwrap();
        assert_eq!(m.by_handle_mut(h).copied(), Some(1));
        m.insert("a".to_owned(), 2);
        assert_eq!(m.by_handle_mut(h), None, "replaced: a new handle");
        let h = m.handle("a").unwrap();
        assert_eq!(m.by_handle_mut(h).copied(), Some(2));
        m.remove_at(m.digest("a"));
        assert_eq!(m.by_handle_mut(h), None);
        // The slot is reused by another key: the old handle still misses.
        m.insert("b".to_owned(), 3);
        assert_eq!(m.handle("b").unwrap().slot, h.slot);
        assert_eq!(m.by_handle_mut(h), None);
    }
}
