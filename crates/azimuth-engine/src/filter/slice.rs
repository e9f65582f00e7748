//! The slice condition's hash: SipHash-2-4 with a zero key over the id's bytes, so points land
//! in the same slice as on a Qdrant server.

use crate::types::PointId;

fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

fn compress(v: &mut [u64; 4], block: u64) {
    v[3] ^= block;
    round(v);
    round(v);
    v[0] ^= block;
}

/// SipHash-2-4 of `data` under the 128-bit key `(k0, k1)`.
pub fn siphash24(data: &[u8], k0: u64, k1: u64) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        compress(&mut v, u64::from_le_bytes(word));
    }
    let mut last = [0u8; 8];
    let tail = chunks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    last[7] = data.len() as u8;
    compress(&mut v, u64::from_le_bytes(last));
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Which of `total` slices the point belongs to (`total` ≥ 1). Integer ids hash their 8
/// little-endian bytes, UUIDs their 16 RFC 4122 bytes, string ids their UTF-8 bytes.
pub fn slice_of(id: &PointId, total: u64) -> u64 {
    let hash = match id {
        PointId::Num(n) => siphash24(&n.to_le_bytes(), 0, 0),
        PointId::Uuid(u) => siphash24(u.as_bytes(), 0, 0),
        PointId::Str(s) => siphash24(s.as_bytes(), 0, 0),
    };
    hash % total.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        // From the SipHash paper: key 00..0f, messages 00..(n-1).
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..64).collect();
        assert_eq!(siphash24(&msg[..0], k0, k1), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(&msg[..15], k0, k1), 0xa129_ca61_49be_45e5);
        assert_eq!(siphash24(&msg[..8], k0, k1), 0x93f5_f579_9a93_2462);
    }

    #[test]
    fn slices_partition_ids() {
        for n in 0..100u64 {
            assert!(slice_of(&PointId::Num(n), 4) < 4);
        }
        assert_eq!(slice_of(&PointId::Num(7), 1), 0);
    }
}
