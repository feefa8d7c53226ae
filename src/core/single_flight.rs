//! One operation in flight, many waiters. The first caller starts the work;
//! everyone who arrives while it runs is parked and handed the one result.
//! Completion empties the flight, so a failure never sticks: the next caller
//! starts afresh.

#[derive(Debug)]
pub struct Flight<W> {
    running: Option<u32>,
    next_id: u32,
    waiters: Vec<W>,
}

/// What `join` did: started the work (the caller must run it) or parked.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Joined {
    Started(u32),
    Waiting(u32),
}

impl<W> Default for Flight<W> {
    fn default() -> Self {
        Flight {
            running: None,
            next_id: 0,
            waiters: Vec::new(),
        }
    }
}

impl<W> Flight<W> {
    pub fn join(&mut self, waiter: W) -> Joined {
        self.waiters.push(waiter);
        match self.running {
            Some(id) => Joined::Waiting(id),
            None => {
                self.next_id = self.next_id.wrapping_add(1);
                self.running = Some(self.next_id);
                Joined::Started(self.next_id)
            }
        }
    }

    pub fn running(&self) -> Option<u32> {
        self.running
    }

    /// Ends flight `id` and hands back its waiters; a stale id (a flight that
    /// already ended) yields `None` so late reports cannot resolve anyone twice.
    pub fn complete(&mut self, id: u32) -> Option<Vec<W>> {
        if self.running != Some(id) {
            return None;
        }
        self.running = None;
        Some(std::mem::take(&mut self.waiters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_join_starts_later_ones_wait() {
        let mut f = Flight::default();
        let Joined::Started(id) = f.join('a') else {
            panic!()
        };
        assert_eq!(f.join('b'), Joined::Waiting(id));
        assert_eq!(f.complete(id), Some(vec!['a', 'b']));
        assert_eq!(f.running(), None);
    }

    #[test]
    fn stale_completion_is_ignored_and_next_join_starts_anew() {
        let mut f = Flight::default();
        let Joined::Started(first) = f.join(1) else {
            panic!()
        };
        f.complete(first).unwrap();
        assert_eq!(f.complete(first), None);
        let Joined::Started(second) = f.join(2) else {
            panic!()
        };
        assert_ne!(first, second);
        assert_eq!(f.complete(first), None);
        assert_eq!(f.complete(second), Some(vec![2]));
    }
}
