package contactstate

import "math/bits"

// contactKey hashes an instance ARN and a contact ID into the contact's key. It must not
// change: the key decides a contact's bucket, and the buckets are stored (a new hash needs
// a new format version). Eight bytes a step (an ARN and a UUID are 120 bytes; a byte a
// step was a third of ApplyEvent), then murmur3's finaliser, which spreads the low byte
// that picks the bucket.
func contactKey(instance, id string) uint64 {
	h := absorb(0x9e3779b97f4a7c15, instance)
	h = absorb(h^0xc2b2ae3d27d4eb4f, id) // a separator: "ab"+"c" and "a"+"bc" differ
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func absorb(h uint64, s string) uint64 {
	const p1, p2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	h ^= uint64(len(s)) * p2
	for ; len(s) >= 8; s = s[8:] {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = bits.RotateLeft64((h^v)*p1, 31) * p2
	}
	var v uint64
	for i := len(s) - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return bits.RotateLeft64((h^v)*p1, 31) * p2
}

func bucketOf(key uint64) int { return int(key % Buckets) }
