// Command connectsim simulates an Amazon Connect contact center and writes the agent
// events it would publish (LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT) to a Kinesis data
// stream, a JSON-lines file or standard output; with --contact-events-stream and
// --contact-records-stream, also the contact events (EventBridge envelopes) and contact
// records (CTRs) of the same contacts, each to a stream of its own.
//
//	connectsim --output kinesis --stream connect-agent-events --endpoint http://127.0.0.1:4568 --speed 1 \
//	    --contact-events-stream connect-contact-events --contact-records-stream connect-contact-records
//	connectsim --output file --file events.jsonl --speed 0 --duration 8h
//
// With --output file or stdout, a stream flag that is set turns its kind on, and its
// records go to the same lines: each document tells its kind (a contact event has
// "detail-type", a contact record "AWSContactTraceRecordFormatVersion").
//
// Kinesis credentials and region come from the AWS SDK's default chain. Ctrl-C stops
// after writing what was taken; a second Ctrl-C stops at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "connectsim:", err)
		os.Exit(1)
	}
}

type options struct {
	cfg          connectsim.Config
	speed        float64
	duration     time.Duration
	events       int64
	start        time.Time
	output       string
	file         string
	stream       string
	eventsStream string // contact events; "" = off
	ctrStream    string // contact records; "" = off
	endpoint     string
	region       string
	summaryEvery time.Duration
	// printQueueNames prints the receiver's queue_names for the simulated queues, and exits.
	printQueueNames bool
}

func run(args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if opts.printQueueNames {
		_, err := io.WriteString(stdout, queueNamesYAML(opts.cfg))
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process
	}()

	sink, describe, kinesisSinks, err := openSink(ctx, opts)
	if err != nil {
		return err
	}
	sim, err := connectsim.New(opts.cfg, opts.start)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "connectsim: %d agents, seed %d, speed %g, from %s, writing to %s\n",
		opts.cfg.Agents, opts.cfg.Seed, opts.speed, sim.Start().Format(time.RFC3339), describe)

	var stats connectsim.Stats
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(opts.summaryEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(stderr, "connectsim:", stats.Summary())
			}
		}
	}()
	runErr := connectsim.Run(ctx, sim, sink, connectsim.RunOptions{
		Speed: opts.speed, Duration: opts.duration, MaxEvents: opts.events, Stats: &stats,
	})
	close(done)
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closeErr := sink.Close(closeCtx)
	fmt.Fprintln(stderr, "connectsim: done:", stats.Summary())
	for _, k := range kinesisSinks {
		st := k.Stats()
		fmt.Fprintf(stderr, "connectsim: kinesis %s: %d records in %d PutRecords calls to %d shards; %d entries and %d calls retried; %s waiting for shard limits; %d not written\n",
			k.Stream(), st.Written, st.Calls, st.Shards, st.FailedEntries, st.FailedCalls, st.PacingWaitTime.Round(time.Millisecond), k.Buffered())
	}
	return errors.Join(runErr, closeErr)
}

// openSink opens where the records go: one output for every kind, or with --output
// kinesis a stream per kind.
func openSink(ctx context.Context, o *options) (connectsim.Sink, string, []*connectsim.KinesisSink, error) {
	switch o.output {
	case "stdout":
		return connectsim.NewStdoutSink(), "stdout", nil, nil
	case "file":
		if o.file == "" {
			return nil, "", nil, errors.New("--output file needs --file")
		}
		s, err := connectsim.NewFileSink(o.file)
		return s, o.file, nil, err
	case "kinesis":
		if o.stream == "" {
			return nil, "", nil, errors.New("--output kinesis needs --stream")
		}
		var loadOpts []func(*awsconfig.LoadOptions) error
		if o.region != "" {
			loadOpts = append(loadOpts, awsconfig.WithRegion(o.region))
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
		if err != nil {
			return nil, "", nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		if awsCfg.Region == "" {
			awsCfg.Region = "us-east-1"
		}
		if o.region == "" {
			o.cfg.Region = awsCfg.Region // the simulated instance is in the stream's region
		}
		client := kinesis.NewFromConfig(awsCfg, func(ko *kinesis.Options) {
			if o.endpoint != "" {
				ko.BaseEndpoint = aws.String(o.endpoint)
			}
		})
		var sinks [3]connectsim.Sink
		var opened []*connectsim.KinesisSink
		var where []string
		for i, stream := range []string{o.stream, o.eventsStream, o.ctrStream} {
			if stream == "" {
				continue
			}
			s, err := connectsim.NewKinesisSink(ctx, client, connectsim.KinesisOptions{Stream: stream})
			if err != nil {
				return nil, "", nil, err
			}
			sinks[i] = s
			opened = append(opened, s)
			where = append(where, fmt.Sprintf("%s (%s, %d shards)", stream, connectsim.Kind(i), s.Stats().Shards))
		}
		desc := fmt.Sprintf("Kinesis streams %s in %s", strings.Join(where, ", "), awsCfg.Region)
		if o.endpoint != "" {
			desc += " at " + o.endpoint
		}
		return connectsim.NewKindSink(sinks[0], sinks[1], sinks[2]), desc, opened, nil
	default:
		return nil, "", nil, fmt.Errorf("--output must be kinesis, file or stdout, not %q", o.output)
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	def := connectsim.DefaultConfig()
	o := &options{cfg: def}
	c := &o.cfg
	fs := flag.NewFlagSet("connectsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: connectsim [flags]\n\nSimulates an Amazon Connect contact center and writes its agent events.\n\n")
		fs.PrintDefaults()
	}

	fs.IntVar(&c.Agents, "agents", def.Agents, "agents on the roster")
	fs.Uint64Var(&c.Seed, "seed", def.Seed, "random seed: the same seed, flags and --start give the same events")
	fs.Float64Var(&o.speed, "speed", 1, "virtual time per real time: 1 = real time, 60 = an hour a minute, 0 = as fast as possible")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this much virtual time (0 = no limit)")
	fs.Int64Var(&o.events, "events", 0, "stop after this many events (0 = no limit)")
	start := fs.String("start", "", "virtual start time, RFC 3339 (default now)")
	fs.StringVar(&o.output, "output", "stdout", "where events go: kinesis, file or stdout")
	fs.StringVar(&o.file, "file", "", "JSON-lines file for --output file")
	fs.StringVar(&o.stream, "stream", "connect-agent-events", "Kinesis stream of the agent events for --output kinesis")
	fs.StringVar(&o.eventsStream, "contact-events-stream", "", "Kinesis stream of the contact events (EventBridge envelopes, keyed by contact id); empty = none. With --output file or stdout, any value adds them to the output")
	fs.StringVar(&o.ctrStream, "contact-records-stream", "", "Kinesis stream of the contact records (CTRs, keyed by contact id); empty = none. With --output file or stdout, any value adds them to the output")
	fs.DurationVar(&c.CallbackDelay, "callback-delay", def.CallbackDelay, "mean initial delay of a queued callback")
	fs.Float64Var(&c.QueueTransferProbability, "queue-transfer-prob", def.QueueTransferProbability, "chance a flow moves a waiting inbound contact to another queue")
	fs.Float64Var(&c.RecordUpdateFraction, "record-update-fraction", def.RecordUpdateFraction, "fraction of contact records delivered again later, updated")
	fs.Float64Var(&c.RecordDuplicateFraction, "record-duplicate-fraction", def.RecordDuplicateFraction, "fraction of contact records delivered twice")
	fs.StringVar(&o.endpoint, "endpoint", "", "Kinesis endpoint override, e.g. http://127.0.0.1:4568 for kinesis-local")
	fs.StringVar(&o.region, "region", "", "AWS region of the stream and the simulated instance (default from the AWS SDK chain, else us-east-1)")
	fs.StringVar(&c.AccountID, "account", def.AccountID, "AWS account id in the ARNs")
	fs.StringVar(&c.InstanceID, "instance-id", def.InstanceID, "Amazon Connect instance id in the ARNs")
	fs.BoolVar(&o.printQueueNames, "print-queue-names", false, "print the collector's queue_names setting for the simulated queues (their ARNs follow from the region, account and instance id) and exit")
	fs.DurationVar(&o.summaryEvery, "summary-every", 10*time.Second, "how often to print a summary line to stderr")

	fs.Float64Var(&c.ContactsPerAgentHour, "contacts-per-hour", def.ContactsPerAgentHour, "contacts arriving per logged-in agent per hour (all channels, outbound included)")
	channelMix := fs.String("channel-mix", fmt.Sprintf("voice=%g,chat=%g,task=%g", def.ChannelMix.Voice, def.ChannelMix.Chat, def.ChannelMix.Task), "weights of the channels of new contacts")
	voiceMix := fs.String("voice-mix", formatMix(def.VoiceMix), "weights of voice initiation methods (inbound, outbound, transfer, callback)")
	chatMix := fs.String("chat-mix", formatMix(def.ChatMix), "weights of chat initiation methods (api, transfer)")
	taskMix := fs.String("task-mix", formatMix(def.TaskMix), "weights of task initiation methods (api, transfer)")
	handle := fs.String("handle-time", formatDurations(def.HandleTime), "mean connected time per channel")
	acw := fs.String("acw", formatDurations(def.AfterContactWork), "mean after contact work per channel")
	patience := fs.String("patience", formatDurations(def.Patience), "mean time a customer waits in queue before abandoning, per channel")
	fs.Float64Var(&c.HoldProbability, "hold-prob", def.HoldProbability, "chance a voice contact is put on hold")
	fs.DurationVar(&c.HoldTime, "hold-time", def.HoldTime, "mean time on hold")
	fs.Float64Var(&c.MissedProbability, "missed-prob", def.MissedProbability, "chance a ringing voice contact is MISSED")
	fs.Float64Var(&c.RejectedProbability, "rejected-prob", def.RejectedProbability, "chance a chat or task is REJECTED")
	fs.Float64Var(&c.ErrorProbability, "error-prob", def.ErrorProbability, "chance a contact fails to connect (ERROR)")
	fs.Float64Var(&c.NoAnswerProbability, "no-answer-prob", def.NoAnswerProbability, "chance an outbound call is not answered")
	statuses := fs.String("statuses", formatStatuses(def.CustomStatuses), "custom statuses: Name=per-hour/mean-duration, comma separated")
	fs.DurationVar(&c.ShiftLength, "shift-length", def.ShiftLength, "time logged in per shift")
	fs.DurationVar(&c.ShiftGap, "shift-gap", def.ShiftGap, "time logged out between shifts")
	fs.DurationVar(&c.ShiftStagger, "shift-stagger", def.ShiftStagger, "first logins are spread over this time")
	fs.Float64Var(&c.OldVersionFraction, "old-version-fraction", 0, `fraction of events with Version "2017-10-01"`)
	fs.Float64Var(&c.NoStatusTypeFraction, "no-type-fraction", 0, "fraction of snapshots without AgentStatus.Type")
	fs.Float64Var(&c.EnqueueSpellingFraction, "enqueue-spelling-fraction", 0, `fraction of NextAgentStatus objects spelling "EnqueueTimestamp"`)

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	c.ChannelMix, err = parseChannelMix(*channelMix)
	check(err)
	c.VoiceMix, err = parseMix(*voiceMix)
	check(err)
	c.ChatMix, err = parseMix(*chatMix)
	check(err)
	c.TaskMix, err = parseMix(*taskMix)
	check(err)
	c.HandleTime, err = parseDurations(*handle)
	check(err)
	c.AfterContactWork, err = parseDurations(*acw)
	check(err)
	c.Patience, err = parseDurations(*patience)
	check(err)
	c.CustomStatuses, err = parseStatuses(*statuses)
	check(err)
	c.ContactEvents, c.ContactRecords = o.eventsStream != "", o.ctrStream != ""
	if o.region != "" {
		c.Region = o.region
	} else if r := os.Getenv("AWS_REGION"); r != "" {
		c.Region = r
	}
	o.start = time.Now()
	if *start != "" {
		o.start, err = time.Parse(time.RFC3339Nano, *start)
		check(err)
	}
	if o.speed < 0 {
		check(errors.New("--speed must not be negative"))
	}
	if o.summaryEvery <= 0 {
		check(errors.New("--summary-every must be positive"))
	}
	check(c.Validate())
	return o, errors.Join(errs...)
}

// pairs splits "a=1,b=2".
func pairs(s string, fn func(k, v string) error) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q: want name=value", part)
		}
		if err := fn(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
	}
	return nil
}

func parseChannelMix(s string) (connectsim.ChannelWeights, error) {
	var w connectsim.ChannelWeights
	err := pairs(s, func(k, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		switch k {
		case "voice":
			w.Voice = f
		case "chat":
			w.Chat = f
		case "task", "tasks":
			w.Task = f
		default:
			return errors.New("channels are voice, chat and task")
		}
		return nil
	})
	return w, err
}

func parseMix(s string) (connectsim.InitiationMix, error) {
	var m connectsim.InitiationMix
	err := pairs(s, func(k, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		switch k {
		case "inbound":
			m.Inbound = f
		case "outbound":
			m.Outbound = f
		case "transfer":
			m.Transfer = f
		case "callback":
			m.Callback = f
		case "api":
			m.API = f
		default:
			return errors.New("methods are inbound, outbound, transfer, callback and api")
		}
		return nil
	})
	return m, err
}

func formatMix(m connectsim.InitiationMix) string {
	var parts []string
	for _, p := range []struct {
		name string
		w    float64
	}{{"inbound", m.Inbound}, {"outbound", m.Outbound}, {"transfer", m.Transfer}, {"callback", m.Callback}, {"api", m.API}} {
		if p.w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%g", p.name, p.w))
		}
	}
	return strings.Join(parts, ",")
}

func parseDurations(s string) (connectsim.ChannelDurations, error) {
	var d connectsim.ChannelDurations
	err := pairs(s, func(k, v string) error {
		x, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		switch k {
		case "voice":
			d.Voice = x
		case "chat":
			d.Chat = x
		case "task", "tasks":
			d.Task = x
		default:
			return errors.New("channels are voice, chat and task")
		}
		return nil
	})
	return d, err
}

func formatDurations(d connectsim.ChannelDurations) string {
	return fmt.Sprintf("voice=%s,chat=%s,task=%s", d.Voice, d.Chat, d.Task)
}

func parseStatuses(s string) ([]connectsim.CustomStatus, error) {
	var out []connectsim.CustomStatus
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spec, _ := strings.Cut(part, "=")
		rate, mean, ok := strings.Cut(spec, "/")
		if !ok {
			return nil, fmt.Errorf("%q: want Name=per-hour/mean-duration", part)
		}
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		d, err := time.ParseDuration(mean)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, connectsim.CustomStatus{Name: strings.TrimSpace(name), PerHour: r, MeanDuration: d})
	}
	return out, nil
}

func formatStatuses(ss []connectsim.CustomStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%s=%g/%s", s.Name, s.PerHour, s.MeanDuration)
	}
	return strings.Join(parts, ",")
}

// queueNamesYAML is the receiver's queue_names setting for the simulated queues: contact
// events name queues by ARN only.
func queueNamesYAML(c connectsim.Config) string {
	var b strings.Builder
	b.WriteString("queue_names:\n")
	for _, q := range c.Queues {
		fmt.Fprintf(&b, "  %s: %s\n", c.QueueARN(q.Name), q.Name)
	}
	return b.String()
}
