package wallboard

import (
	"regexp"
	"strings"
)

var (
	eventTimestamp = regexp.MustCompile(`"EventTimestamp":"[0-9-]+T([0-9:]+)`)
	// A contact event's envelope time, and a contact record's last update.
	contactTimestamp = regexp.MustCompile(`"(?:time|LastUpdateTimestamp)":"[0-9-]+T([0-9:]+)`)
	// attribute finds the debug exporter's key=value attributes after an event's body;
	// a value runs to the next attribute.
	attribute = regexp.MustCompile(`(aws\.connect\.[a-z_.]+|aws\.kinesis\.[a-z_]+|error\.type)=`)
)

// EventLine turns a line of the debug exporter's output that holds an agent event (its
// body, then its attributes) into one short line: time, event type, agent, status,
// routing profile; or one that holds a contact event or contact record: time, event type
// (CONTACT_RECORD for a record), channel, queue, contact. Other lines give false.
func EventLine(line string) (string, bool) {
	if strings.Contains(line, "aws.connect.contact.id=") {
		return contactLine(line), true
	}
	if !strings.Contains(line, "aws.connect.event.type=") {
		if strings.Contains(line, "error.type=") {
			return "malformed record: " + attr(line, "error.type"), true
		}
		return "", false
	}
	when := ""
	if m := eventTimestamp.FindStringSubmatch(line); m != nil {
		when = m[1]
	}
	return strings.Join([]string{
		when,
		attr(line, "aws.connect.event.type"),
		attr(line, "aws.connect.agent.username"),
		attr(line, "aws.connect.agent.status.name"),
		attr(line, "aws.connect.routing_profile.name"),
	}, "  "), true
}

func attr(line, key string) string {
	locs := attribute.FindAllStringSubmatchIndex(line, -1)
	for i, l := range locs {
		if line[l[2]:l[3]] != key {
			continue
		}
		end := len(line)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		return strings.TrimSpace(line[l[1]:end])
	}
	return "-"
}

func contactLine(line string) string {
	when := ""
	if m := contactTimestamp.FindStringSubmatch(line); m != nil {
		when = m[1]
	}
	typ := attr(line, "aws.connect.event.type")
	if typ == "-" {
		typ = "CONTACT_RECORD"
	}
	queue := attr(line, "aws.connect.queue.name")
	if queue == "-" {
		if arn := attr(line, "aws.connect.queue.arn"); arn != "-" {
			queue = shortARN(arn)
		}
	}
	contact := attr(line, "aws.connect.contact.id")
	if len(contact) > 8 {
		contact = contact[:8]
	}
	return strings.Join([]string{when, typ, attr(line, "aws.connect.channel"), queue, "contact " + contact}, "  ")
}
