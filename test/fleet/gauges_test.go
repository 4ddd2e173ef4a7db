package fleet

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
)

// TestFleetGaugesSumToOneCollectors runs three collectors with leases beside a fourth
// reading the same stream alone. Once all have read every event, the three's latest
// gauges summed (service.instance.id set aside) equal the fourth's at every export; each
// collector's gauges carry its own service.instance.id. After a SIGKILL of one of the
// three, the sum never exceeds the fourth's (no agent counted twice) and is equal again
// once its shards are read elsewhere, at every export after.
func TestFleetGaugesSumToOneCollectors(t *testing.T) {
	f := newFleet(t, "gauges", 4)
	s := f.settings
	require.NoError(t, f.writer.Put(context.Background(), 600))

	const single = "gauges-single"
	f.start(single, false)
	ids := f.startFleet(3)
	f.waitFair(ids, 3*s.LeaseDuration)
	// A lease handed over to make the split fair is taken by the new holder at its next
	// assignment (within a lease duration), read and its agents rebuilt, while the old
	// holder's last export may still count them: only exports after that, and a collection
	// interval more, show the split.
	fairAt := time.Now()
	f.waitArrived(90*time.Second, single)
	f.waitArrived(90*time.Second, ids...)

	settled := f.waitGaugesEqual(ids, single, fairAt.Add(s.LeaseDuration+s.CollectionInterval), 30*time.Second)
	t.Logf("gauges of the fleet equal the single collector's %s after the fleet read every event (exports from a lease duration and a collection interval after the split was fair)", settled.Round(10*time.Millisecond))
	compared := f.gaugesEqualAtEachExport(ids, single, 3*s.CollectionInterval)
	t.Logf("equal at each of %d exports over %s", compared, 3*s.CollectionInterval)

	for _, id := range ids {
		exports := f.rec.Exports(id)
		require.NotEmpty(t, exports, "%s exported no gauges", id)
		for _, e := range exports {
			require.Equal(t, []string{id}, e.InstanceIDs, "the gauges of %s carry service.instance.id %v", id, e.InstanceIDs)
		}
	}

	owners := f.owners()
	victim := busiest(owners, ids)
	survivors := without(ids, victim)
	killedAt := f.kill(victim)
	hole := f.waitGaugesEqualNeverAbove(survivors, single, killedAt, 60*time.Second)
	t.Logf("after the SIGKILL of %s (%v): the fleet's sum short of the single collector's for %s, never above it",
		victim, shardsOf(owners, victim), hole.Round(10*time.Millisecond))
	compared = f.gaugesEqualAtEachExport(survivors, single, 3*s.CollectionInterval)
	t.Logf("equal again at each of %d exports over %s", compared, 3*s.CollectionInterval)
}

// waitGaugesEqual polls until the latest gauges of members, each exported at since or
// later, sum to single's, and returns how long that took.
func (f *fleet) waitGaugesEqual(members []string, single string, since time.Time, deadline time.Duration) time.Duration {
	f.t.Helper()
	start := time.Now()
	var diff string
	for time.Since(start) < deadline {
		f.checkRunning()
		if !f.exportedSince(members, since) {
			diff = "not every member has exported since " + since.Format(time.RFC3339Nano)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if diff = gaugeDiff(f.rec.Sum(members...), f.rec.Sum(single)); diff == "" {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("the gauges of %v never summed to those of %s within %s:\n%s", members, single, deadline, diff)
	return 0
}

// waitGaugesEqualNeverAbove is waitGaugesEqual that also checks, at each export before,
// that no series of the sum is above single's; it returns the time since from.
func (f *fleet) waitGaugesEqualNeverAbove(members []string, single string, from time.Time, deadline time.Duration) time.Duration {
	f.t.Helper()
	seen := exportCounts(f, append(slices.Clone(members), single))
	for time.Since(from) < deadline {
		f.checkRunning()
		sum, want := f.rec.Sum(members...), f.rec.Sum(single)
		if gaugeDiff(sum, want) == "" {
			return time.Since(from)
		}
		now := exportCounts(f, append(slices.Clone(members), single))
		if !maps.Equal(now, seen) {
			seen = now
			for k, v := range sum {
				require.LessOrEqual(f.t, v, want[k], "series %s summed across %v above the single collector's: an agent counted twice", k, members)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("the gauges of %v never summed to those of %s again within %s:\n%s", members, single, deadline,
		gaugeDiff(f.rec.Sum(members...), f.rec.Sum(single)))
	return 0
}

// gaugesEqualAtEachExport compares the sum with single's each time one of them exports,
// for d, and returns how many exports it compared at.
func (f *fleet) gaugesEqualAtEachExport(members []string, single string, d time.Duration) int {
	f.t.Helper()
	all := append(slices.Clone(members), single)
	seen := exportCounts(f, all)
	compared := 0
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		f.checkRunning()
		now := exportCounts(f, all)
		if maps.Equal(now, seen) {
			continue
		}
		for m, n := range now {
			compared += n - seen[m]
		}
		seen = now
		if diff := gaugeDiff(f.rec.Sum(members...), f.rec.Sum(single)); diff != "" {
			f.t.Fatalf("at an export the gauges of %v did not sum to those of %s:\n%s", members, single, diff)
		}
	}
	require.GreaterOrEqual(f.t, compared, len(all), "too few exports to compare: is collection_interval longer than %s?", d)
	return compared
}

// exportedSince says whether each of members has exported gauges at since or later.
func (f *fleet) exportedSince(members []string, since time.Time) bool {
	for _, m := range members {
		if e, ok := f.rec.Latest(m); !ok || e.At.Before(since) {
			return false
		}
	}
	return true
}

func exportCounts(f *fleet, members []string) map[string]int {
	out := map[string]int{}
	for _, m := range members {
		out[m] = len(f.rec.Exports(m))
	}
	return out
}

// gaugeDiff lists the series whose values differ, "" when none does.
func gaugeDiff(got, want gaugesum.Sums) string {
	return strings.Join(gaugesum.Diff(want, got), "\n")
}
