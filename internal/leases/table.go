package leases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// ensureTable makes sure the lease table is usable: created (on demand, hash key
// leaseKey) when missing and CreateTable is set, ACTIVE, and keyed by leaseKey alone.
func (c *Coordinator) ensureTable(ctx context.Context) error {
	table := c.cfg.Table
	out, err := c.describeTable(ctx)
	if _, missing := errors.AsType[*types.ResourceNotFoundException](err); missing {
		if !c.cfg.CreateTable {
			return fmt.Errorf("lease table %s does not exist and create_table is off: create it (hash key %s, type S) or turn create_table on: %w", table, attrKey, err)
		}
		if err := c.createTable(ctx); err != nil {
			return err
		}
		out, err = c.describeTable(ctx)
	}
	if err != nil {
		return describeError("describe lease table "+table, err)
	}
	for backoff := 100 * time.Millisecond; out.Table.TableStatus != types.TableStatusActive; backoff = min(2*backoff, 2*time.Second) {
		switch out.Table.TableStatus {
		case types.TableStatusCreating, types.TableStatusUpdating:
		default:
			return fmt.Errorf("lease table %s is %s, not ACTIVE", table, out.Table.TableStatus)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lease table %s to become ACTIVE (it is %s): %w", table, out.Table.TableStatus, ctx.Err())
		case <-time.After(backoff):
		}
		if out, err = c.describeTable(ctx); err != nil {
			return describeError("describe lease table "+table, err)
		}
	}
	return checkKeySchema(table, out.Table)
}

// describeTable is DescribeTable, refusing an answer without a table: an endpoint that
// is not DynamoDB may answer 200 with an empty document.
func (c *Coordinator) describeTable(ctx context.Context) (*dynamodb.DescribeTableOutput, error) {
	out, err := c.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(c.cfg.Table)})
	if err == nil && (out == nil || out.Table == nil) {
		return nil, fmt.Errorf("describe lease table %s: the answer describes no table: is the endpoint a DynamoDB endpoint?", c.cfg.Table)
	}
	return out, err
}

func (c *Coordinator) createTable(ctx context.Context) error {
	_, err := c.api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(c.cfg.Table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if _, inUse := errors.AsType[*types.ResourceInUseException](err); inUse {
		return nil // another worker is creating it
	}
	if err != nil {
		return describeError("create lease table "+c.cfg.Table, err)
	}
	c.logger.Info("Created the lease table (on-demand capacity)", zapTable(c.cfg.Table))
	return nil
}

func checkKeySchema(table string, desc *types.TableDescription) error {
	ks := desc.KeySchema
	if len(ks) == 1 && aws.ToString(ks[0].AttributeName) == attrKey && ks[0].KeyType == types.KeyTypeHash {
		for _, d := range desc.AttributeDefinitions {
			if aws.ToString(d.AttributeName) == attrKey && d.AttributeType != types.ScalarAttributeTypeS {
				return fmt.Errorf("lease table %s: its hash key %s is of type %s, want S", table, attrKey, d.AttributeType)
			}
		}
		return nil
	}
	var found []string
	for _, k := range ks {
		found = append(found, fmt.Sprintf("%s (%s)", aws.ToString(k.AttributeName), k.KeyType))
	}
	return fmt.Errorf("lease table %s has key schema %v, want a single hash key %s (S): is it another application's table?", table, found, attrKey)
}

// describeError wraps err with what was being done, and says so plainly when access
// was denied.
func describeError(doing string, err error) error {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		switch apiErr.ErrorCode() {
		case "AccessDeniedException", "UnrecognizedClientException", "AccessDenied":
			return fmt.Errorf("%s: access denied (check the IAM policy of the lease table's credentials): %w", doing, err)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}
