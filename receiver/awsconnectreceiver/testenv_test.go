package awsconnectreceiver

import "os"

// Tests never reach AWS: static dummy credentials keep the SDK's default chain from
// probing the EC2 instance metadata endpoint, which is off limits here.
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
}
