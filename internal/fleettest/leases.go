package fleettest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Lease is a lease item as the table holds it (KCL's attribute names).
type Lease struct {
	Shard, Owner string
	Counter      int64
	Checkpoint   string
	Parents      []string
}

// ReadLeases scans the lease table, consistently, straight from DynamoDB.
func ReadLeases(ctx context.Context, client *dynamodb.Client, table string) ([]Lease, error) {
	var out []Lease
	var start map[string]types.AttributeValue
	for {
		page, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range page.Items {
			l := Lease{Shard: s(item["leaseKey"]), Owner: s(item["leaseOwner"]), Checkpoint: s(item["checkpoint"])}
			if n, ok := item["leaseCounter"].(*types.AttributeValueMemberN); ok {
				l.Counter, _ = strconv.ParseInt(n.Value, 10, 64)
			}
			if ss, ok := item["parentShardIds"].(*types.AttributeValueMemberSS); ok {
				l.Parents = slices.Sorted(slices.Values(ss.Value))
			}
			out = append(out, l)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Shard < out[j].Shard })
	return out, nil
}

func s(v types.AttributeValue) string {
	if sv, ok := v.(*types.AttributeValueMemberS); ok {
		return sv.Value
	}
	return ""
}

// Owners maps each shard not read to its end (checkpoint SHARD_END) to its owner, ""
// for none.
func Owners(leases []Lease) map[string]string {
	out := map[string]string{}
	for _, l := range leases {
		if l.Checkpoint != "SHARD_END" {
			out[l.Shard] = l.Owner
		}
	}
	return out
}

// Held counts the open shards each owner holds.
func Held(owners map[string]string) map[string]int {
	out := map[string]int{}
	for _, o := range owners {
		if o != "" {
			out[o]++
		}
	}
	return out
}

// Fair says whether every open shard is held, by workers only, each holding
// floor(shards/workers) or one more, every worker at least that floor.
func Fair(owners map[string]string, workers []string) bool {
	if len(owners) == 0 || len(workers) == 0 {
		return false
	}
	held := Held(owners)
	for _, o := range owners {
		if o == "" {
			return false
		}
	}
	lo := len(owners) / len(workers)
	hi := lo
	if len(owners)%len(workers) != 0 {
		hi++
	}
	total := 0
	for _, w := range workers {
		n := held[w]
		if n < lo || n > hi {
			return false
		}
		total += n
	}
	return total == len(owners)
}
