package dynamotest

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStartServesTheDynamoDBProtocol(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	_, err := s.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("leases"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	// --createTableMs 0 still leaves the table CREATING until dynalite's next turn, as
	// DynamoDB leaves it for seconds: wait for it, as the lease code does.
	out, err := dynamodb.NewTableExistsWaiter(s.Client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	}).WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("leases")}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Fatalf("table status %s, want ACTIVE", out.Table.TableStatus)
	}
}

// A client that gives up on a request while sending it (a context cancelled at a
// collector's shutdown) does not end the stand-in, as it does not end DynamoDB.
func TestARequestAbortedMidBodyLeavesItServing(t *testing.T) {
	s := Start(t)
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Write([]byte("POST / HTTP/1.1\r\nHost: " + u.Host + "\r\n" +
			"Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n" +
			"Content-Length: 1000\r\n\r\n{\"Limit\":"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the server is reading the body
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case <-s.Exited():
		t.Fatalf("dynalite exited after a request was aborted:\n%s", s.Report())
	default:
	}
	if _, err := s.Client.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("dynalite stopped serving after a request was aborted: %v", err)
	}
}
