package awsconnectreceiver

import (
	"os"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/getrecords"
)

// Tests never reach AWS: static dummy credentials keep the SDK's default chain from
// probing the EC2 instance metadata endpoint, which is off limits here.
//
// And every GetRecords slab the receiver recycles is overwritten, so that a record's
// data used after its batch was done (decoded again, kept in state or in a log record)
// shows up in any test as garbage instead of passing unseen.
func init() {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "test-access-key",
		"AWS_SECRET_ACCESS_KEY":       "test-secret-key",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		os.Setenv(k, v)
	}
	getrecords.Poison(true)
}
