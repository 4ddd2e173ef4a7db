package queuestorage

import (
	"errors"
	"fmt"
)

const (
	defaultSegmentSize = 32 << 20
	minSegmentSize     = 1 << 20
	maxSegmentSize     = 1 << 30
)

// Config is the queue_storage extension's configuration.
type Config struct {
	// Directory holds a subdirectory of segment files for each client (each exporter's
	// queue of each signal, say). Mount a volume that survives restarts here.
	Directory string `mapstructure:"directory"`
	// CreateDirectory creates Directory at start when it is missing.
	CreateDirectory bool `mapstructure:"create_directory"`
	// SegmentSize is the size, in bytes, at which a segment file is closed and a new one
	// started. A segment is removed once nothing in it is live, so the disk used is what
	// is queued plus about two segments a client.
	SegmentSize int64 `mapstructure:"segment_size"`
	// Fsync flushes each write to the disk before it returns. Off, as in file_storage: a
	// crash of the collector loses nothing either way (what was written is in the
	// kernel's page cache); one of the machine loses what the kernel had not written yet.
	Fsync bool `mapstructure:"fsync"`
}

func createDefaultConfig() *Config {
	return &Config{SegmentSize: defaultSegmentSize}
}

// Validate names the field that is wrong.
func (c *Config) Validate() error {
	var errs []error
	if c.Directory == "" {
		errs = append(errs, errors.New("directory must be set"))
	}
	if c.SegmentSize < minSegmentSize || c.SegmentSize > maxSegmentSize {
		errs = append(errs, fmt.Errorf("segment_size %d is not between %d (1 MiB) and %d (1 GiB)", c.SegmentSize, minSegmentSize, maxSegmentSize))
	}
	return errors.Join(errs...)
}
