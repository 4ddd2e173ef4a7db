package leases

import (
	"math/rand/v2"
	"strings"
)

// choice is what one Assign call tries to take.
type choice struct {
	take  []*lease
	steal bool
}

// chooseLeases is KCL's taker. workers are the distinct owners of unexpired eligible
// leases, plus me; target = ceil(eligible / workers), capped by maxPerWorker. Below
// target, take available leases (unowned, expired, or mine from before a restart) up to
// it; when none are available, steal from the most loaded worker, and only when it
// holds more than target, or exactly target while I hold two or more below it. So
// each steal narrows a gap of at least two leases: the sum of the squares of the
// workers' counts falls with every steal, and a lease can never move back and forth.
func chooseLeases(me string, eligible []*lease, held, expired map[string]bool, maxPerWorker, maxSteal int) choice {
	if len(eligible) == 0 {
		return choice{}
	}
	counts := map[string]int{}
	mine := 0
	var available []*lease
	for _, l := range eligible {
		switch {
		case held[l.key]:
			mine++
		case l.owner == "" || l.owner == me || expired[l.key]:
			available = append(available, l)
		default:
			counts[l.owner]++
		}
	}
	workers := len(counts) + 1
	target := (len(eligible) + workers - 1) / workers
	if maxPerWorker > 0 {
		target = min(target, maxPerWorker)
	}
	need := target - mine
	if need <= 0 {
		return choice{}
	}
	if len(available) > 0 {
		// Shuffled so that workers starting together do not all race for the same leases.
		rand.Shuffle(len(available), func(i, j int) { available[i], available[j] = available[j], available[i] })
		return choice{take: available[:min(need, len(available))]}
	}
	if maxSteal <= 0 {
		return choice{}
	}
	victim, most := "", 0
	for owner, n := range counts {
		if n > most || (n == most && owner < victim) {
			victim, most = owner, n
		}
	}
	n := 0
	switch {
	case most > target:
		n = min(need, most-target)
	case most == target && need > 1:
		n = 1
	}
	n = min(n, maxSteal)
	if n <= 0 {
		return choice{}
	}
	var candidates []*lease
	for _, l := range eligible {
		if l.owner == victim && !expired[l.key] && !held[l.key] {
			candidates = append(candidates, l)
		}
	}
	rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	return choice{take: candidates[:min(n, len(candidates))], steal: true}
}

func cmpString(a, b string) int { return strings.Compare(a, b) }
