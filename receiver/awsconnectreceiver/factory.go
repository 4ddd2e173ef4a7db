package awsconnectreceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// NewFactory returns the factory of the aws_connect receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogsReceiver, metadata.LogsStability),
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability),
	)
}

// receivers holds one receiver per configuration, so that a logs and a metrics pipeline
// with the same aws_connect receiver share one Kinesis consumer.
var receivers = sharedReceivers{byConfig: map[*Config]*sharedReceiver{}}

func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return receivers.get(cfg.(*Config), set, func(r *awsConnectReceiver) { r.nextLogs = next })
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return receivers.get(cfg.(*Config), set, func(r *awsConnectReceiver) { r.nextMetrics = next })
}

type sharedReceivers struct {
	mu       sync.Mutex
	byConfig map[*Config]*sharedReceiver
}

// sharedReceiver starts and stops the one receiver of a configuration once, however many
// pipelines it is in.
type sharedReceiver struct {
	*awsConnectReceiver
	owner        *sharedReceivers
	cfg          *Config
	startOnce    sync.Once
	startErr     error
	shutdownOnce sync.Once
	shutdownErr  error
}

func (s *sharedReceivers) get(cfg *Config, set receiver.Settings, attach func(*awsConnectReceiver)) (*sharedReceiver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr, ok := s.byConfig[cfg]
	if !ok {
		r, err := newReceiver(cfg, set)
		if err != nil {
			return nil, err
		}
		sr = &sharedReceiver{awsConnectReceiver: r, owner: s, cfg: cfg}
		s.byConfig[cfg] = sr
	}
	attach(sr.awsConnectReceiver)
	return sr, nil
}

func (sr *sharedReceiver) Start(ctx context.Context, host component.Host) error {
	first := false
	sr.startOnce.Do(func() { first, sr.startErr = true, sr.awsConnectReceiver.Start(ctx, host) })
	if !first {
		// The host of another pipeline: the receiver's status is reported there too.
		sr.health.addHost(host)
	}
	return sr.startErr
}

func (sr *sharedReceiver) Shutdown(ctx context.Context) error {
	sr.shutdownOnce.Do(func() {
		sr.shutdownErr = sr.awsConnectReceiver.Shutdown(ctx)
		sr.owner.mu.Lock()
		delete(sr.owner.byConfig, sr.cfg)
		sr.owner.mu.Unlock()
	})
	return sr.shutdownErr
}
