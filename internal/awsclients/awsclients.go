// Package awsclients builds the AWS clients of the collector (Kinesis, DynamoDB, and the
// STS behind an assumed role) in one place: one credential chain, one TLS setting and one
// HTTP transport for all of them, whose idle connections Close drops at shutdown. Each
// service has settings of its own (region, endpoint, role), as the stream and the lease
// table often live in different accounts.
package awsclients

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"
)

// SessionName names the sessions of assumed roles, as seen in CloudTrail.
const SessionName = "otelcol-amazonconnect"

// Settings are one service's: where it is and whose credentials reach it.
type Settings struct {
	// Field is how the configuration names this service's block in errors, with its
	// separator: "" for the receiver's top level, "leases::" for the lease table.
	Field string
	// Region of the service; empty takes the AWS SDK's default chain (AWS_REGION, the
	// shared config file).
	Region string
	// Endpoint overrides the service's endpoint (a VPC endpoint, a local stand-in). It
	// wins over AWS_ENDPOINT_URL_<SERVICE>, as the configuration is the more specific.
	Endpoint string
	// RoleARN, when set, is assumed through STS in Region, with ExternalID if set; the
	// default chain's credentials sign the AssumeRole call.
	RoleARN    string
	ExternalID string
}

// Clients builds service clients sharing one credential chain and one HTTP transport.
type Clients struct {
	base      aws.Config
	transport *http.Transport
}

// New loads the AWS SDK's default configuration (credential chain, shared config files,
// AWS_CA_BUNDLE, AWS_ENDPOINT_URL_*) once, with region for the default credential chain
// (web identity and SSO call STS there; empty leaves it to the chain), and tls on top of
// the SDK's own TLS settings when tls is not the collector's default.
func New(ctx context.Context, region string, tls configtls.ClientConfig, logger *zap.Logger) (*Clients, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	base, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	c := &Clients{base: base}
	// Own the transport, so that Close can drop its idle connections and tls applies.
	// The SDK leaves HTTPClient nil unless AWS_CA_BUNDLE is set (then it tunes one with
	// that bundle); a nil one would have each client build a transport of its own.
	if base.HTTPClient == nil {
		base.HTTPClient = awshttp.NewBuildableClient()
	}
	bc, ok := base.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil, fmt.Errorf("the AWS SDK's HTTP client is a %T, which the tls settings cannot be applied to", base.HTTPClient)
	}
	c.transport = bc.GetTransport()
	c.base.HTTPClient = &http.Client{Transport: c.transport, Timeout: bc.GetTimeout()}
	if !reflect.DeepEqual(tls, configtls.NewDefaultClientConfig()) {
		tlsCfg, err := tls.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if tls.InsecureSkipVerify {
			logger.Warn("tls::insecure_skip_verify is set: the certificates of the AWS endpoints are not verified")
		}
		c.transport.TLSClientConfig = tlsCfg
	}
	return c, nil
}

// Config returns the aws.Config of one service: its region, and its credentials (the
// default chain's, or a role assumed through an STS client of the service's region).
// The endpoint is not in it (see Kinesis, DynamoDB).
func (c *Clients) Config(s Settings) (aws.Config, error) {
	cfg := c.base.Copy()
	if s.Region != "" {
		cfg.Region = s.Region
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("%sregion: not set, and the AWS SDK found none in AWS_REGION or the shared config: set %sregion, e.g. us-east-1", s.Field, s.Field)
	}
	if s.RoleARN != "" {
		// The STS client takes this service's region: the role's regional STS endpoint,
		// which a VPC without internet access may be the only one it reaches.
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), s.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = SessionName
			if s.ExternalID != "" {
				o.ExternalID = aws.String(s.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// Kinesis returns a Kinesis client for s; opts apply after the settings.
func (c *Clients) Kinesis(s Settings, opts ...func(*kinesis.Options)) (*kinesis.Client, error) {
	cfg, err := c.Config(s)
	if err != nil {
		return nil, err
	}
	return kinesis.NewFromConfig(cfg, append([]func(*kinesis.Options){func(o *kinesis.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
	}}, opts...)...), nil
}

// DynamoDB returns a DynamoDB client for s; opts apply after the settings.
func (c *Clients) DynamoDB(s Settings, opts ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	cfg, err := c.Config(s)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
	}}, opts...)...), nil
}

// Region is the region the default chain found, "" if none.
func (c *Clients) Region() string { return c.base.Region }

// Close drops the idle connections of the shared transport. Clients built before keep
// working, on new connections.
func (c *Clients) Close() {
	if c == nil || c.transport == nil {
		return
	}
	c.transport.CloseIdleConnections()
}
