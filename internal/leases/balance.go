package leases

import (
	"math/rand/v2"
	"strings"
)

// choice is what one Assign call tries to take.
type choice struct {
	take []*lease
	// steal says take are other workers' leases, to ask them to hand over.
	steal bool
}

// chooseLeases is KCL's taker. workers are the distinct owners of unexpired eligible
// leases, plus me; target = ceil(eligible / workers), capped by maxPerWorker. Below
// target, take available leases (unowned, expired, or mine from before a restart or
// handed over to me) up to it; when none are available, ask the most loaded worker for
// some (steal), and only when it holds more than target, or exactly target while I hold
// two or more below it. So each steal narrows a gap of at least two leases: the sum of
// the squares of the workers' counts falls with every steal, and a lease can never move
// back and forth. A lease asked for (pendingOwner set) counts for the worker that asked,
// for every worker: nobody asks twice for the same gap.
func chooseLeases(me string, eligible []*lease, held, expired map[string]bool, maxPerWorker, maxSteal int) choice {
	if len(eligible) == 0 {
		return choice{}
	}
	counts := map[string]int{}
	mine := 0
	var available []*lease
	for _, l := range eligible {
		switch {
		case held[l.key] && (l.pendingOwner == "" || l.pendingOwner == me):
			mine++
		case held[l.key]:
			counts[l.pendingOwner]++ // being handed over
		case l.owner == "" || expired[l.key]:
			available = append(available, l)
		case l.owner == me && (l.pendingOwner == "" || l.pendingOwner == me):
			available = append(available, l)
		case l.pendingOwner == me:
			mine++ // asked for: its holder hands it over soon
		case l.pendingOwner != "":
			counts[l.pendingOwner]++
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
		if l.owner == victim && l.pendingOwner == "" && !expired[l.key] && !held[l.key] {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return choice{} // all asked for already
	}
	rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	return choice{take: candidates[:min(n, len(candidates))], steal: true}
}

func cmpString(a, b string) int { return strings.Compare(a, b) }
