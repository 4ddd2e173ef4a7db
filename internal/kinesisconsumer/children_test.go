package kinesisconsumer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A shard read to its end names its children; they are read after it even while
// ListShards fails (or lags), as they would be once a listing showed them.
func TestChildShardsNamedAtTheEndAreReadThoughListingsFail(t *testing.T) {
	e := newEnv(1)
	ks := keys("k", 20)
	e.p.round(ks, 2)
	c := start(t, e.options(t))
	parent := e.f.shardIDs()[0]
	e.waitDelivered(t, e.p.all())
	// From here every listing fails: only the parent's last read can name its children.
	e.f.failNext(opListShards, 1_000_000, serverError())
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	e.p.round(ks, 3)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, e.p.all())
	assertParentsFirst(t, got, []string{parent}, []string{lower, upper})
}
