package eventlog

import "strings"

// instanceARN holds the parts of arn:PARTITION:connect:REGION:ACCOUNT:instance/ID.
type instanceARN struct {
	region, account, instanceID string
}

// parseInstanceARN returns the parts it can find; an ARN of another shape gives none.
func parseInstanceARN(arn string) (instanceARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "connect" {
		return instanceARN{}, false
	}
	id, ok := strings.CutPrefix(parts[5], "instance/")
	if !ok {
		return instanceARN{}, false
	}
	// An instance ARN has nothing after the ID; be lenient with a sub-resource ARN.
	if i := strings.IndexByte(id, '/'); i >= 0 {
		id = id[:i]
	}
	return instanceARN{region: parts[3], account: parts[4], instanceID: id}, true
}
