// Command eventreplay writes sample Amazon Connect agent events to a Kinesis stream, each
// with a fresh EventId and the current time, so a collector has something to read. It is
// the small writer behind `make run` until the contact-center simulator replaces it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

func main() {
	endpoint := flag.String("endpoint", "", "Kinesis endpoint override, e.g. http://127.0.0.1:4568 for kinesis-local")
	region := flag.String("region", "us-east-1", "AWS region")
	stream := flag.String("stream", "connect-agent-events", "Kinesis stream name")
	dir := flag.String("dir", "testdata/events", "directory of sample events (*.json, one event each)")
	interval := flag.Duration("interval", time.Second, "wait between events")
	count := flag.Int("count", 0, "events to write; 0 writes until interrupted")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *endpoint, *region, *stream, *dir, *interval, *count); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, endpoint, region, stream, dir string, interval time.Duration, count int) error {
	samples, err := loadSamples(dir)
	if err != nil {
		return err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return err
	}
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	for i := 0; count == 0 || i < count; i++ {
		ev := samples[i%len(samples)]
		data, key, err := refresh(ev, time.Now())
		if err != nil {
			return err
		}
		out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &stream, PartitionKey: &key, Data: data})
		if err != nil {
			return fmt.Errorf("put record: %w", err)
		}
		log.Printf("wrote %s event of %s to %s", ev["EventType"], key, aws.ToString(out.ShardId))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
	return nil
}

func loadSamples(dir string) ([]map[string]any, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var samples []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ev map[string]any
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		samples = append(samples, ev)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no *.json events in %s", dir)
	}
	return samples, nil
}

// refresh gives an event a new EventId and the current time, and returns it with its
// partition key, the agent ARN, as Amazon Connect writes it.
func refresh(ev map[string]any, now time.Time) ([]byte, string, error) {
	ev["EventId"] = uuid()
	ev["EventTimestamp"] = now.UTC().Format("2006-01-02T15:04:05.000Z")
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, "", err
	}
	key, _ := ev["AgentARN"].(string)
	if key == "" {
		key = "unknown-agent"
	}
	return data, key, nil
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
