//! The streaming quantile estimator behind each age bucket of a summary: CKMS targeted
//! quantiles (Cormode, Korn, Muthukrishnan, Srivastava, "Effective Computation of Biased
//! Quantiles over Data Streams", 2005), laid out as Go's `github.com/beorn7/perks/quantile`.
//!
//! # The tuples
//!
//! A [`Stream`] keeps a list of tuples `(v, g, Δ)` sorted by value. With `r` the sum of the widths `g` before a tuple, its value's rank (1-based, in the
//! sorted stream) lies in `[r + g, r + g + Δ]`; call `(r, r + g + Δ]` the tuple's *span*. The
//! first tuple is always the exact minimum (`g = 1`, `Δ = 0`) and the last the exact maximum.
//!
//! As in perks, observations wait in a buffer ([`BUFFER`] values, one per window, sorted once
//! for all its streams, where perks has 500 per stream); a full buffer, a query or a rotation
//! sorts it and merges it into the tuple lists, compressing them in the same pass. Queries
//! are answered exactly while nothing has been compressed away: from the sorted buffer before
//! the first merge, as perks does (so a handful of observations give client_golang's
//! quantiles), and from the tuples while each still stands for one observation.
//!
//! # The error bound
//!
//! For an objective `(φ, ε)` and `n` observations, the reported value `v` satisfies
//! `#{x < v} ≤ (φ + ε)·n` and `#{x ≤ v} ≥ (φ − ε)·n`: some rank `v` holds among its equals is
//! within `ε·n` of `φ·n`. This holds for every order of arrival, not only random ones.
//!
//! Why: the query returns the tuple before the first whose highest possible rank exceeds
//! `t = min(⌊(φ + ε)n⌋ + 1, ⌈φn⌉ + ⌈εn⌉)`, so its rank is at most `t` (and `t − 1 ≤ (φ + ε)n`);
//! it is at least `L = ⌈(φ − ε)n⌉` unless the next tuple's span reaches from below `L` to above
//! `t ≥ (φ + ε)n`: a span that *straddles* the window. Compression only ever builds a span `w`
//! wide starting after rank `r` if no later arrival order can make it straddle: straddling at
//! size `n' ≥ n` needs `w > 2εn' + 1` and a start still below `(φ − ε)n'` (so
//! `n' > r / (φ − ε)`), and, as at most `n' − n` of the new observations can land below the
//! span, `w > n − r + 1 − (1 − φ − ε)n'`. The widest safe span is therefore
//! `2ε · max(n, r/(φ − ε), (n − r)/(1 − φ + ε))`, or unbounded when `φ ≤ ε` or `φ + ε ≥ 1`
//! (no span starts below rank 1 or ends above `n`, and the first and last tuples are exact);
//! the invariant is the least of these over the objectives. A new tuple inherits the span of
//! the tuple after it, which was safe, so no span ever straddles.
//!
//! # Where it differs from perks
//!
//! The query walk is perks' (`r + g + Δ > t` ends it), with `t` as above rather than
//! `⌈φn⌉ + ⌈f(⌈φn⌉)/2⌉`, which can overshoot the window by a rank. Inserted tuples get the
//! tightest valid `Δ` (the next tuple's `g + Δ − 1`, or 0 at either end) instead of `f − 1`,
//! which understates the uncertainty once ranks have drifted. The invariant above replaces
//! CKMS's `2εr/φ` and `2ε(n − r)/(1 − φ)`: those let a span straddle the window (badly so when
//! `2ε ≥ 1 − φ`, where client_java's summaries collapsed to the minimum,
//! prometheus/client_java#2292), and perks' compression evaluates them at a rank up to a
//! tuple's width too high. Compression keeps the minimum's tuple, so `φ = 0` reports the
//! minimum.
//!
//! # Memory
//!
//! On random, monotone or bursty streams a stream keeps a few dozen tuples for the objectives
//! of Go's documentation, even after 200 000 observations. Targeted quantiles have no
//! worst-case space bound, though (neither CKMS's nor perks'): when new values keep landing at
//! one rank (a sequence converging on its median from both sides, say) the tuples above it are
//! born with `Δ` at the invariant's limit and drift to where the limit stops growing, so the
//! list grows by about one tuple per 25 observations (perks: one per 30). It stays bounded by
//! the observations in the window, since every stream is reset once per `max_age`.

/// Observations buffered before they are sorted and merged into the tuples. Perks merges every
/// 500; a merge walks every tuple of every stream of the window, so fewer, larger merges cost
/// less per observation. The buffer grows as it fills: up to 32 KiB for a summary that sees
/// thousands of observations between merges, about what arrives between scrapes or periods
/// for a quieter one (the sort's scratch is per thread). Go's buffers take about 68 KiB.
pub(super) const BUFFER: usize = 4096;

/// One tuple: a value, how many observations it stands for, and its rank uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tuple {
    value: f64,
    width: u64,
    delta: u64,
}

/// The objectives of a summary, prepared for the invariant (shared by all its streams).
#[derive(Debug, Clone)]
pub(super) struct Targets(Box<[Target]>);

/// One objective's part of the invariant: a span may be `two_error · max(n, r · below,
/// (n − r) · above)` wide where it starts after rank `r`.
#[derive(Debug, Clone, Copy)]
struct Target {
    two_error: f64,
    /// `1 / (φ − ε)`.
    below: f64,
    /// `1 / (1 − φ + ε)`.
    above: f64,
}

impl Target {
    #[inline]
    fn widest_at(&self, r: f64, n: f64) -> f64 {
        // Plain comparisons, not `f64::max`: no operand is NaN, so the NaN handling `max`
        // compiles to would only lengthen the loop compress spends its time in.
        let (low, high) = (r * self.below, (n - r) * self.above);
        let far = if low > high { low } else { high };
        self.two_error * if far > n { far } else { n }
    }

    /// How fast `widest_at` can fall per rank: its slope is `2ε/(φ − ε)` or `2ε/(1 − φ + ε)`.
    fn slope(&self) -> f64 {
        self.two_error * if self.below > self.above { self.below } else { self.above }
    }
}

impl Targets {
    /// Prepares `(φ, ε)` pairs. Objectives whose window reaches past either end (`φ ≤ ε`, or
    /// `φ + ε ≥ 1`) constrain nothing: no span starts below rank 1 or ends above `n`, and the
    /// kept minimum and maximum answer them.
    pub(super) fn new(objectives: &[(f64, f64)]) -> Self {
        Self(
            objectives
                .iter()
                .filter(|&&(q, e)| q > e && q + e < 1.0)
                .map(|&(q, e)| Target {
                    two_error: 2.0 * e,
                    below: 1.0 / (q - e),
                    above: 1.0 / (1.0 - q + e),
                })
                .collect(),
        )
    }

    /// A width every span may have among `n` observations, wherever it starts (`2εn` of the
    /// strictest objective): checked first, it spares most merges the full invariant.
    fn narrowest(&self, n: f64) -> f64 {
        self.0.iter().fold(f64::INFINITY, |narrowest, t| narrowest.min(t.two_error * n))
    }

    /// The widest span a tuple starting after rank `r` may have among `n` observations.
    #[inline]
    fn widest(&self, r: f64, n: f64) -> f64 {
        self.0.iter().fold(f64::INFINITY, |widest, t| {
            let w = t.widest_at(r, n);
            if w < widest { w } else { widest }
        })
    }

    /// The steepest slope of [`widest`](Self::widest) in `r` (the steepest of the minimum's
    /// parts): `widest(r') ≥ widest(r) − slope·|r − r'|`.
    fn slope(&self) -> f64 {
        self.0.iter().fold(0.0, |steepest, t| if t.slope() > steepest { t.slope() } else { steepest })
    }
}

/// One age bucket's estimator: the compressed tuple list (the window buffers for it).
#[derive(Debug, Default)]
pub(super) struct Stream {
    /// Sorted by value; the first is the exact minimum.
    tuples: Vec<Tuple>,
    /// The merge's output buffer, swapped with `tuples` to reuse both allocations.
    spare: Vec<Tuple>,
    /// Observations merged in (the sum of the widths).
    merged: u64,
    /// Set once compression has merged tuples; until then each is one observation, `Δ = 0`.
    lossy: bool,
}

impl Stream {
    /// Observations since the last reset.
    pub(super) fn count(&self) -> u64 {
        self.merged
    }

    /// Forgets every observation, keeping the allocations.
    pub(super) fn reset(&mut self) {
        self.tuples.clear();
        self.merged = 0;
        self.lossy = false;
    }

    /// The estimate of quantile `q` with allowed rank error `e` (an objective of the targets
    /// the stream was merged with); NaN when the stream is empty.
    pub(super) fn query(&self, q: f64, e: f64) -> f64 {
        if !self.lossy {
            // Every observation is still there: answer exactly, as perks does from its buffer.
            return self.tuples.get(exact_index(self.tuples.len(), q)).map_or(f64::NAN, |t| t.value);
        }
        let n = self.merged as f64; // exact below 2^53 observations
        // The top of the window, or perks' `⌈φn⌉ + ⌈εn⌉` when that is lower; both are at least
        // `(φ + ε)n`.
        let upper = (((q + e) * n).floor() + 1.0).min((q * n).ceil() + (e * n).ceil());
        let mut prev = self.tuples[0];
        let mut rank = prev.width;
        for &t in &self.tuples[1..] {
            if (rank + t.width + t.delta) as f64 > upper {
                return prev.value;
            }
            rank += t.width;
            prev = t;
        }
        prev.value
    }

    /// Merges `sorted` (ascending by [`f64::total_cmp`]) into the tuples and compresses them,
    /// in one pass from the right: exactly what merging them in and then compressing the list
    /// gives (the reference the tests hold it to), without writing out the merged list.
    ///
    /// The new values between two neighbouring tuples (a run) all get the same `Δ`, and each
    /// is folded into the tuple on its right as long as the result stays within
    /// [`Targets::narrowest`], a bound that holds at every rank. As long as it does, the
    /// outcome of each step is known without evaluating it, so those folds are done together:
    /// a run costs a few steps, not one per value, and a merge costs about one step per tuple.
    pub(super) fn merge(&mut self, sorted: &[f64], targets: &Targets) {
        if sorted.is_empty() {
            return;
        }
        if self.tuples.len() + sorted.len() < 3 {
            // Nothing can be compressed: the merged list as it is.
            self.merge_uncompressed(sorted);
            return;
        }
        self.merged += sorted.len() as u64;
        let mut out = std::mem::take(&mut self.spare);
        out.clear();
        let old = &self.tuples;
        let mut fold = Fold::new(targets, self.merged);
        // Unvisited: old[..i] and sorted[..j]; the merged list's first entry is never folded
        // (it is the minimum), so the walk stops when only it is left.
        let (mut i, mut j) = (old.len(), sorted.len());
        // Whether the merged list's last entry (and the next to visit) is a new value: on ties
        // old tuples come first, so arrival order breaks them.
        let new_next =
            |i: usize, j: usize| j > 0 && (i == 0 || old[i - 1].value.total_cmp(&sorted[j - 1]).is_le());
        let delta = |i: usize| inserted_delta(old, i);
        let mut x = if new_next(i, j) {
            j -= 1;
            Tuple { value: sorted[j], width: 1, delta: delta(i) }
        } else {
            i -= 1;
            old[i]
        };
        let mut rank = self.merged - x.width; // observations before x
        while i + j > 1 {
            if !new_next(i, j) {
                i -= 1;
                fold.step(&mut x, &mut rank, old[i], &mut out);
                continue;
            }
            // The run: the new values at or above old[i - 1], but never the list's first entry.
            let low = match i {
                0 => 1,
                _ => sorted[..j].partition_point(|v| v.total_cmp(&old[i - 1].value).is_lt()),
            };
            let d = delta(i);
            while j > low {
                // Each fold of a width-1 value within `narrowest` adds one to x's width.
                let left = (j - low) as u64;
                let within = match fold.always.saturating_sub(x.width + x.delta).min(left) {
                    0 => fold.within_slope(&x, rank, left),
                    k => k,
                };
                if within > 0 {
                    x.width += within;
                    rank -= within;
                    #[allow(clippy::cast_possible_truncation)] // at most `j - low`
                    let within = within as usize;
                    j -= within;
                    fold.folded = true;
                    continue;
                }
                j -= 1;
                fold.step(&mut x, &mut rank, Tuple { value: sorted[j], width: 1, delta: d }, &mut out);
            }
        }
        out.push(x);
        out.push(if j == 1 { Tuple { value: sorted[0], width: 1, delta: 0 } } else { old[0] });
        out.reverse();
        self.lossy |= fold.folded;
        self.spare = std::mem::replace(&mut self.tuples, out);
    }

    /// Merges `sorted` into the tuples without compressing.
    fn merge_uncompressed(&mut self, sorted: &[f64]) {
        let mut out = std::mem::take(&mut self.spare);
        out.clear();
        let old = &self.tuples;
        let mut i = 0;
        for &v in sorted {
            // Equal values go after the ones already there, so arrival order breaks ties.
            while let Some(&t) = old.get(i).filter(|t| t.value.total_cmp(&v).is_le()) {
                out.push(t);
                i += 1;
            }
            out.push(Tuple { value: v, width: 1, delta: inserted_delta(old, i) });
        }
        out.extend_from_slice(&old[i..]);
        self.spare = std::mem::replace(&mut self.tuples, out);
        self.merged += sorted.len() as u64;
    }

    /// The merge as first written: the merged list in full, then [`compress`](Self::compress).
    #[cfg(all(test, not(loom)))]
    fn merge_reference(&mut self, sorted: &[f64], targets: &Targets) {
        if sorted.is_empty() {
            return;
        }
        self.merge_uncompressed(sorted);
        self.compress(targets);
    }

    /// Merges neighbours, right to left, wherever the merged span stays within the invariant.
    /// The first tuple (the minimum) is never merged away.
    #[cfg(all(test, not(loom)))]
    fn compress(&mut self, targets: &Targets) {
        let len = self.tuples.len();
        if len < 3 {
            return;
        }
        let mut fold = Fold::new(targets, self.merged);
        let mut out = Vec::with_capacity(len);
        let mut x = self.tuples[len - 1];
        let mut rank = self.merged - x.width;
        for i in (1..len - 1).rev() {
            fold.step(&mut x, &mut rank, self.tuples[i], &mut out);
        }
        out.push(x);
        out.push(self.tuples[0]);
        out.reverse();
        self.lossy |= fold.folded;
        self.tuples = out;
    }

    /// Tuples held (for tests of the memory bound).
    #[cfg(all(test, not(loom)))]
    pub(super) fn tuples(&self) -> usize {
        self.tuples.len()
    }
}

/// The `Δ` of a new value inserted before `old[i]` (after every tuple when `i` is
/// `old.len()`): before every old tuple or after all of them the rank is exact; in between it
/// is at most the next tuple's highest rank (which the new value pushes up by one).
#[inline]
fn inserted_delta(old: &[Tuple], i: usize) -> u64 {
    match old.get(i) {
        Some(next) if i > 0 => next.width + next.delta - 1,
        _ => 0,
    }
}

/// One compression walk over a list, right to left: whether each tuple folds into the one on
/// its right (kept in `x`) or ends it.
struct Fold<'a> {
    targets: &'a Targets,
    n: f64,
    /// [`Targets::narrowest`] as a whole number: a span this wide or narrower is safe at every
    /// rank (widths are whole numbers, so `width <= narrowest` exactly when `width <= always`).
    always: u64,
    slope: f64,
    /// `widest` at rank `known_at` was `known`; the slope bounds it further left (ranks only
    /// fall during the walk), so most folds that `always` refuses need no full evaluation.
    known_at: f64,
    known: f64,
    /// Whether any tuple was folded.
    folded: bool,
}

impl<'a> Fold<'a> {
    fn new(targets: &'a Targets, merged: u64) -> Self {
        let n = merged as f64; // exact below 2^53 observations
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // Non-negative (or infinite without objectives): the cast floors, and saturates.
        let always = targets.narrowest(n) as u64;
        Self {
            targets,
            n,
            always,
            slope: targets.slope(),
            known_at: n,
            known: f64::NEG_INFINITY,
            folded: false,
        }
    }

    /// How many of the next `left` width-1 tuples of a run (all with the `Δ` of the one left
    /// of `x`) fold into `x` by the slope bound alone, each step widening `x` by one and
    /// moving one rank left: the bound falls as the width grows, so they are the first `k`
    /// and `k` is found by a search instead of a step per value. Steps the bound refuses
    /// are left to [`step`](Self::step), which may still fold them.
    fn within_slope(&self, x: &Tuple, rank: u64, left: u64) -> u64 {
        let base = x.width + x.delta;
        // The bound `step` checks for the `k`-th value: widths and ranks are whole numbers
        // below 2^53, so both sides are computed exactly as `step` computes them.
        let folds =
            |k: u64| (base + k) as f64 <= self.known - self.slope * (self.known_at - (rank - k) as f64);
        if left == 0 || !folds(1) {
            return 0;
        }
        // `folds` is true up to some k and false after (both sides move one way as k
        // grows), so a binary search finds the last true; the linear solution of
        // `base + k = known − slope·(known_at − rank + k)` brackets it first.
        let guess =
            (self.known - self.slope * (self.known_at - rank as f64) - base as f64) / (1.0 + self.slope);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 1..=left
        let guess = (guess.max(1.0) as u64).clamp(1, left);
        let (mut yes, mut no) = if folds(guess) { (guess, left + 1) } else { (1, guess) };
        if yes < left && !folds(yes + 1) {
            return yes;
        }
        while no - yes > 1 {
            let mid = yes + (no - yes) / 2;
            if folds(mid) {
                yes = mid;
            } else {
                no = mid;
            }
        }
        yes
    }

    /// Visits `c`, the tuple left of `x`, whose span ends after rank `*rank`: folds it into
    /// `x` when the merged span stays within the invariant, else pushes `x` to `out` and
    /// makes `c` the new `x`.
    #[inline]
    fn step(&mut self, x: &mut Tuple, rank: &mut u64, c: Tuple, out: &mut Vec<Tuple>) {
        let before = *rank - c.width;
        let width = c.width + x.width + x.delta;
        let (w, at) = (width as f64, before as f64);
        if width <= self.always || w <= self.known - self.slope * (self.known_at - at) || {
            (self.known_at, self.known) = (at, self.targets.widest(at, self.n));
            w <= self.known
        } {
            x.width += c.width;
            self.folded = true;
        } else {
            out.push(*x);
            *x = c;
        }
        *rank = before;
    }
}

/// Sorts `values` ascending by [`f64::total_cmp`], through integer keys in the same order:
/// they sort faster than floats compared with `total_cmp`. The keys go in a scratch buffer
/// each thread keeps for every summary it flushes, so a summary does not hold one of its own.
pub(super) fn sort(values: &mut [f64]) {
    // Negative floats (sign bit set) flip every bit, so larger magnitudes sort first; the
    // others flip only the sign bit, to sort above them. The map is its own inverse's mirror.
    fn key(v: f64) -> u64 {
        let bits = v.to_bits();
        bits ^ ((((bits as i64) >> 63) as u64) | (1 << 63))
    }
    fn value(k: u64) -> f64 {
        f64::from_bits(if k >> 63 == 1 { k ^ (1 << 63) } else { !k })
    }
    fn through(values: &mut [f64], keys: &mut Vec<u64>) {
        keys.clear();
        keys.extend(values.iter().map(|&v| key(v)));
        keys.sort_unstable();
        for (v, &k) in values.iter_mut().zip(keys.iter()) {
            *v = value(k);
        }
    }
    thread_local! {
        static KEYS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    // A fresh buffer if the thread's is unavailable (during thread exit).
    let sorted = KEYS.try_with(|keys| match keys.try_borrow_mut() {
        Ok(mut keys) => {
            through(values, &mut keys);
            true
        }
        Err(_) => false,
    });
    if sorted != Ok(true) {
        through(values, &mut Vec::new());
    }
}

/// The `q`-quantile of `sorted`, perks' way (the `⌈q·len⌉`-th value); NaN for no values.
pub(super) fn exact(sorted: &[f64], q: f64) -> f64 {
    sorted.get(exact_index(sorted.len(), q)).copied().unwrap_or(f64::NAN)
}

/// The index of the `⌈q·len⌉`-th of `len` sorted values (the first for `q = 0`).
fn exact_index(len: usize, q: f64) -> usize {
    // 0 ≤ q·len ≤ len: the cast neither truncates nor wraps.
    ((len as f64 * q).ceil() as usize).saturating_sub(1).min(len.saturating_sub(1))
}

/// Checks the documented bound: `v` occurs in `sorted` with `#{x < v} ≤ (q + e)n` and
/// `#{x ≤ v} ≥ (q − e)n` (a relative slack of 1e-9 absorbs float rounding of `(q ± e)n`).
#[cfg(all(test, not(loom)))]
pub(super) fn check_rank(sorted: &[f64], v: f64, q: f64, e: f64) -> Result<(), String> {
    let n = sorted.len() as f64;
    let below = sorted.partition_point(|x| x.total_cmp(&v).is_lt());
    let through = sorted.partition_point(|x| x.total_cmp(&v).is_le());
    let slack = 1e-9 * n;
    if through == below {
        return Err(format!("q={q}: {v} was never observed"));
    }
    if below as f64 > (q + e) * n + slack || (through as f64) < (q - e) * n - slack {
        return Err(format!(
            "q={q} e={e} n={n}: {v} holds ranks {}..={through}, outside {}..={}",
            below + 1,
            (q - e) * n,
            (q + e) * n + 1.0
        ));
    }
    Ok(())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const GO_DOCS: [(f64, f64); 3] = [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)];

    /// A stream with its buffer, fed and queried as a window feeds and queries its streams.
    #[derive(Default)]
    struct Fed {
        stream: Stream,
        buffer: Vec<f64>,
    }

    impl Fed {
        fn insert(&mut self, v: f64, targets: &Targets) {
            self.buffer.push(v);
            if self.buffer.len() == BUFFER {
                self.flush(targets);
            }
        }

        fn flush(&mut self, targets: &Targets) {
            self.buffer.sort_unstable_by(f64::total_cmp);
            self.stream.merge(&self.buffer, targets);
            self.buffer.clear();
        }

        fn query(&mut self, q: f64, e: f64, targets: &Targets) -> f64 {
            if self.stream.count() == 0 {
                self.buffer.sort_unstable_by(f64::total_cmp);
                return exact(&self.buffer, q);
            }
            self.flush(targets);
            self.stream.query(q, e)
        }

        fn count(&self) -> u64 {
            self.stream.count() + self.buffer.len() as u64
        }

        fn tuples(&self) -> usize {
            self.stream.tuples()
        }
    }

    fn stream_of(values: &[f64], targets: &Targets) -> Fed {
        let mut s = Fed::default();
        for &v in values {
            s.insert(v, targets);
        }
        s
    }

    /// Queries every objective and checks each answer against the sorted values.
    fn check_all(s: &mut Fed, values: &[f64], objectives: &[(f64, f64)], targets: &Targets) {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        for &(q, e) in objectives {
            let v = s.query(q, e, targets);
            if let Err(msg) = check_rank(&sorted, v, q, e) {
                panic!("{msg} (tuples {})", s.tuples());
            }
        }
    }

    /// A small deterministic generator (splitmix64) for reproducible streams.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in (0, 1].
        fn unit(&mut self) -> f64 {
            ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
        }
    }

    /// `n` values of distribution `kind`: uniform, exponential, normal, few distinct values,
    /// ascending, descending, a sawtooth, heavy-tailed (Pareto), or orders built to move ranks
    /// under old tuples: blocks alternating between a high and a low range, the middle
    /// spreading outwards, and both ends converging on the middle.
    fn stream(kind: u8, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng(seed);
        let mut out: Vec<f64> = (0..n)
            .map(|i| match kind {
                0 => rng.unit(),
                1 => -rng.unit().ln(),
                2 => {
                    let (a, b) = (rng.unit(), rng.unit());
                    (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
                }
                3 => (rng.next() % 5) as f64,
                4 | 5 => i as f64,
                6 => (i % 97) as f64 + rng.unit(),
                7 => rng.unit().powf(-1.5),
                8 => rng.unit() + if (i / 300) % 2 == 0 { 10.0 } else { 0.0 } + (i / 600) as f64 * 0.001,
                9 => {
                    if i % 2 == 0 {
                        i as f64
                    } else {
                        -(i as f64)
                    }
                }
                _ => {
                    if i % 2 == 0 {
                        1.0 / (i + 1) as f64
                    } else {
                        -1.0 / (i + 1) as f64
                    }
                }
            })
            .collect();
        if kind == 5 {
            out.reverse();
        }
        out
    }

    #[test]
    fn integer_keys_sort_as_total_cmp_does() {
        let mut values = vec![
            3.5,
            -0.0,
            0.0,
            f64::INFINITY,
            -1e300,
            f64::NAN,
            -f64::NAN,
            f64::MIN_POSITIVE,
            -2.0,
            f64::NEG_INFINITY,
            1e-320,
            -1e-320,
        ];
        values.extend(stream(2, 500, 3));
        let mut expected = values.clone();
        expected.sort_by(f64::total_cmp);
        sort(&mut values);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(&expected));
    }

    #[test]
    fn a_few_observations_are_answered_exactly_like_perks() {
        let targets = Targets::new(&GO_DOCS);
        let mut s = stream_of(&[1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0], &targets);
        assert_eq!(s.query(0.5, 0.05, &targets), 3.25);
        assert_eq!(s.query(0.9, 0.01, &targets), 10.0);
        assert_eq!(s.query(0.99, 0.001, &targets), 10.0);
        assert_eq!(s.query(0.0, 0.01, &targets), 0.25);
        assert_eq!(s.count(), 7);
        assert_eq!(s.tuples(), 0, "nothing merged below {BUFFER} observations");
        // Merged but not compressed (too few for any merge to be safe): still exact.
        s.flush(&targets);
        assert_eq!((s.tuples(), s.stream.lossy), (7, false));
        assert_eq!(s.query(0.5, 0.05, &targets), 3.25);
        assert_eq!(s.query(0.9, 0.01, &targets), 10.0);
        assert!(Fed::default().query(0.5, 0.05, &targets).is_nan());
    }

    #[test]
    fn merged_streams_answer_within_the_error() {
        let targets = Targets::new(&GO_DOCS);
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        let mut s = stream_of(&values, &targets);
        assert_eq!(s.count(), 1000);
        check_all(&mut s, &values, &GO_DOCS, &targets);
        // The value of rank k is k: the bound is `k − 1 ≤ (φ + ε)n` and `k ≥ (φ − ε)n`.
        assert!((989.0..=992.0).contains(&s.query(0.99, 0.001, &targets)));
        assert!((890.0..=911.0).contains(&s.query(0.9, 0.01, &targets)));
    }

    #[test]
    fn zero_error_is_exact_and_extremes_are_the_min_and_max() {
        let objectives = [(0.0, 0.0), (0.5, 0.0), (1.0, 0.0)];
        let targets = Targets::new(&objectives);
        // More than a buffer's worth, so the stream has merged before it is queried.
        let n = BUFFER * 3 / 2;
        let values = stream(0, n, 7);
        let mut s = stream_of(&values, &targets);
        assert!(s.tuples() > 0);
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        assert_eq!(s.query(0.0, 0.0, &targets), sorted[0]);
        assert_eq!(s.query(0.5, 0.0, &targets), sorted[n / 2 - 1]);
        assert_eq!(s.query(1.0, 0.0, &targets), sorted[n - 1]);
        assert_eq!(s.tuples(), n, "zero error keeps every observation");
        // The extremes alone constrain nothing: the list shrinks to the minimum and maximum.
        let extremes = [(0.0, 0.0), (1.0, 0.0)];
        let targets = Targets::new(&extremes);
        let mut s = stream_of(&values, &targets);
        assert_eq!(s.query(0.0, 0.0, &targets), sorted[0]);
        assert_eq!(s.query(1.0, 0.0, &targets), sorted[n - 1]);
        assert_eq!(s.tuples(), 2);
    }

    #[test]
    fn memory_stays_bounded_on_long_streams() {
        let targets = Targets::new(&GO_DOCS);
        // Not kind 10, the known worst case (see the module docs): about n/25 tuples.
        for kind in 0..10 {
            let values = stream(kind, 200_000, 11);
            let mut s = stream_of(&values, &targets);
            check_all(&mut s, &values, &GO_DOCS, &targets);
            assert!(s.tuples() < 200, "kind {kind}: {} tuples", s.tuples());
        }
    }

    /// client_java#2292: with `2ε ≥ 1 − φ` CKMS's invariant let one tuple span the window and
    /// the quantiles collapsed to the minimum; the reviewers' reproducer is 1..=10000 shuffled.
    #[test]
    fn wide_errors_near_the_top_do_not_collapse() {
        let objectives = [(0.9, 0.05), (0.99, 0.005)];
        let targets = Targets::new(&objectives);
        let mut values: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let mut rng = Rng(2);
        for i in (1..values.len()).rev() {
            values.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        let mut s = stream_of(&values, &targets);
        check_all(&mut s, &values, &objectives, &targets);
        assert!(s.query(0.99, 0.005, &targets) >= 9850.0);
    }

    #[test]
    fn ties_are_ranked_among_their_equals() {
        let objectives = [(0.1, 0.01), (0.5, 0.01), (0.9, 0.01)];
        let targets = Targets::new(&objectives);
        let values: Vec<f64> = (0..3000).map(|i| f64::from(i % 3)).collect();
        let mut s = stream_of(&values, &targets);
        assert_eq!(s.query(0.1, 0.01, &targets), 0.0);
        assert_eq!(s.query(0.5, 0.01, &targets), 1.0);
        assert_eq!(s.query(0.9, 0.01, &targets), 2.0);
    }

    fn objectives() -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop_oneof![
            Just(GO_DOCS.to_vec()),
            Just(vec![(0.9, 0.05), (0.99, 0.005)]),
            Just(vec![(0.0, 0.01), (1.0, 0.01)]),
            Just(vec![(0.25, 0.1), (0.5, 0.1), (0.75, 0.1)]),
            prop::collection::vec((0.0..=1.0f64, 0.0005..0.2f64), 1..5),
        ]
    }

    proptest! {
        /// The documented bound, for random streams of several shapes (sorted and reversed
        /// ones included), checked after every 700 observations and at the end.
        #[test]
        fn quantiles_stay_within_the_declared_error(
            objectives in objectives(),
            kind in 0u8..11,
            n in 1usize..5000,
            seed in any::<u64>(),
        ) {
            let mut dedup = objectives.clone();
            dedup.sort_by(|a, b| a.0.total_cmp(&b.0));
            dedup.dedup_by(|a, b| a.0 == b.0);
            let targets = Targets::new(&dedup);
            let values = stream(kind, n, seed);
            let mut s = Fed::default();
            for (i, &v) in values.iter().enumerate() {
                s.insert(v, &targets);
                if (i + 1) % 700 == 0 || i + 1 == n {
                    let mut sorted = values[..=i].to_vec();
                    sorted.sort_unstable_by(f64::total_cmp);
                    for &(q, e) in &dedup {
                        let got = s.query(q, e, &targets);
                        prop_assert!(check_rank(&sorted, got, q, e).is_ok(), "{}", check_rank(&sorted, got, q, e).unwrap_err());
                    }
                }
            }
        }

        /// The one-pass merge leaves exactly the tuples (values, widths and `Δ`s), count and
        /// lossiness that merging in full and then compressing leaves, batch after batch: with
        /// many ties or none, small batches and large ones, and streams long enough for
        /// whole runs to fold within `narrowest`.
        #[test]
        fn the_one_pass_merge_is_merge_then_compress(
            objectives in objectives(),
            batches in prop::collection::vec((0u8..12, 1usize..2500, any::<u64>()), 1..24),
        ) {
            let targets = Targets::new(&objectives);
            let (mut fused, mut reference) = (Stream::default(), Stream::default());
            for (kind, len, seed) in batches {
                let mut batch = if kind == 11 {
                    // Small integers: ties within the batch and with the tuples.
                    stream(0, len, seed).into_iter().map(|v| (v * 8.0).floor()).collect()
                } else {
                    stream(kind, len, seed)
                };
                batch.sort_unstable_by(f64::total_cmp);
                fused.merge(&batch, &targets);
                reference.merge_reference(&batch, &targets);
                prop_assert_eq!(&fused.tuples, &reference.tuples);
                prop_assert_eq!((fused.merged, fused.lossy), (reference.merged, reference.lossy));
            }
        }

        /// Small integers: many ties, any order.
        #[test]
        fn tie_heavy_streams_stay_within_the_error(values in prop::collection::vec(0u8..20, 1..3000)) {
            let objectives = [(0.05, 0.01), (0.5, 0.02), (0.95, 0.005)];
            let targets = Targets::new(&objectives);
            let values: Vec<f64> = values.into_iter().map(f64::from).collect();
            let mut s = stream_of(&values, &targets);
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            for &(q, e) in &objectives {
                let got = s.query(q, e, &targets);
                prop_assert!(check_rank(&sorted, got, q, e).is_ok(), "{}", check_rank(&sorted, got, q, e).unwrap_err());
            }
        }
    }
}
