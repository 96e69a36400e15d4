//! The stable channel → shard mapping.

/// The shard of `channel` among `shards`: FNV-1a (64-bit) of the name's
/// bytes, modulo `shards`. Stable across processes, platforms and versions
/// (unlike `std`'s randomly seeded hasher), which every node relies on.
///
/// ```
/// use wsnova_cluster::shards::shard_of;
/// assert_eq!(shard_of("btcusdt@trade", 32), shard_of("btcusdt@trade", 32));
/// assert!(shard_of("btcusdt@trade", 32) < 32);
/// ```
///
/// # Panics
///
/// If `shards` is 0.
pub fn shard_of(channel: &str, shards: u32) -> u32 {
    assert!(shards > 0, "at least one shard");
    (fnv1a(channel.as_bytes()) % u64::from(shards)) as u32
}

/// FNV-1a, 64-bit.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::shard_of;

    #[test]
    fn fnv1a_reference_values() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the reference test vectors).
        assert_eq!(
            shard_of("a", u32::MAX),
            (0xaf63_dc4c_8601_ec8c_u64 % u64::from(u32::MAX)) as u32
        );
    }

    #[test]
    fn spreads_channels() {
        let mut counts = [0u32; 8];
        for i in 0..800 {
            counts[shard_of(&format!("s{i}usdt@trade"), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (60..=140).contains(&c)),
            "{counts:?}"
        );
    }
}
