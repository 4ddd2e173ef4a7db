package queuestorage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

type queueStorage struct {
	cfg    *Config
	logger *zap.Logger

	mu sync.Mutex
	// open holds the clients not closed yet, by directory.
	open map[string]*store
}

var _ storage.Extension = (*queueStorage)(nil)

func newQueueStorage(cfg *Config, logger *zap.Logger) *queueStorage {
	return &queueStorage{cfg: cfg, logger: logger, open: map[string]*store{}}
}

// Start checks the directory, or creates it when create_directory says so.
func (q *queueStorage) Start(context.Context, component.Host) error {
	if q.cfg.CreateDirectory {
		if err := os.MkdirAll(q.cfg.Directory, 0o750); err != nil {
			return fmt.Errorf("queue_storage: directory %q: %w", q.cfg.Directory, err)
		}
		return nil
	}
	info, err := os.Stat(q.cfg.Directory)
	if err != nil {
		return fmt.Errorf("queue_storage: directory %q: %w (create_directory: true creates it)", q.cfg.Directory, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("queue_storage: directory %q is not a directory", q.cfg.Directory)
	}
	return nil
}

// Shutdown closes the clients their components left open.
func (q *queueStorage) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	open := make([]*store, 0, len(q.open))
	for _, s := range q.open {
		open = append(open, s)
	}
	q.mu.Unlock()
	for _, s := range open {
		if err := s.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}

// GetClient opens the client's own subdirectory, named as file_storage names its files:
// kind, component type, component name and storage name.
func (q *queueStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	parts := []string{strings.ToLower(kind.String()), id.Type().String(), id.Name()}
	if name != "" {
		parts = append(parts, name)
	}
	dir := filepath.Join(q.cfg.Directory, sanitize(strings.Join(parts, "_")))
	s, err := openStore(dir, q.cfg.SegmentSize, q.cfg.Fsync, q.logger.With(zap.String("client", filepath.Base(dir))))
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.open[dir] = s
	q.mu.Unlock()
	s.onClose = func() {
		q.mu.Lock()
		delete(q.open, dir)
		q.mu.Unlock()
	}
	return s, nil
}

// sanitize keeps a name's letters, digits, '.', '-' and '_', and writes any other byte
// as ~ and its hex value, so that names stay distinct.
func sanitize(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.' && i > 0, c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "~%02X", c)
		}
	}
	return b.String()
}
