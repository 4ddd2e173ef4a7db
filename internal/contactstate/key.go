package contactstate

// contactKey hashes an instance ARN and a contact ID into the contact's key. It must not
// change: the key decides a contact's bucket, and the buckets are stored (a new hash needs
// a new format version). FNV-1a, then a finaliser that spreads the low byte (the bucket).
func contactKey(instance, id string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(instance); i++ {
		h = (h ^ uint64(instance[i])) * prime
	}
	h *= prime // the separator (a zero byte): "ab"+"c" and "a"+"bc" differ
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func bucketOf(key uint64) int { return int(key % Buckets) }
