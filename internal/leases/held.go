package leases

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// writeHeld makes a write under a held lease (h.mu held): build gives the UpdateItem
// for the counter held. A failed condition is checked against the item, since an
// earlier write of ours whose answer was lost (a timeout) may have moved the counter:
// if this worker still owns the lease, the counter found is adopted and the write made
// once more. A failed condition then means the lease is lost; an item that cannot be
// read says nothing, and is an error to retry.
func (c *Coordinator) writeHeld(ctx context.Context, id string, h *heldLease, build func(counter int64) *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.api.UpdateItem(ctx, build(h.counter))
	if !isConditionFailed(err) {
		return out, err
	}
	l, getErr := c.get(ctx, id)
	if getErr != nil {
		// Not known to be lost: a failure to retry, like any other.
		return nil, fmt.Errorf("a conditional write failed and the lease could not be read to tell whether it is lost: %w", getErr)
	}
	if l == nil || l.owner != c.cfg.WorkerID || l.counter == h.counter {
		return out, err
	}
	h.counter = l.counter
	return c.api.UpdateItem(ctx, build(h.counter))
}
