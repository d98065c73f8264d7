//! A deterministic pseudo-random sequence (xorshift) for the tests that generate exports: the
//! same seed gives the same export on every machine.
#![allow(dead_code)]

pub struct Dice(pub u64);

impl Dice {
    /// A number below `n`.
    pub fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len())]
    }
}
