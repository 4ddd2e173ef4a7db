// Command connectwatch shows the receiver's agent gauges and queue metrics as a live
// wallboard in the terminal, from the collector's Prometheus endpoint: the demo's window
// on the contact center.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/wallboard"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9464/metrics", "the collector's Prometheus endpoint; for collectors sharing a stream, each one's, comma-separated: the board adds them up")
	every := flag.Duration("every", 5*time.Second, "refresh interval")
	tail := flag.String("tail", "", "a log file to show the last lines of under the board")
	lines := flag.Int("lines", 8, "how many lines of -tail to show")
	window := flag.Duration("window", 15*time.Minute, "service level and abandoned over this recent window; 0 = since the collector started")
	flag.Parse()

	var history recent

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		var screen bytes.Buffer
		screen.WriteString("\033[H\033[2J") // home and clear
		if b, err := scrapeAll(ctx, client, strings.Split(*url, ",")); err != nil {
			fmt.Fprintf(&screen, "Waiting for the collector at %v\n", err)
		} else {
			now := time.Now()
			shown := history.since(now, b, *window)
			shown.Render(&screen, now)
			if *window > 0 {
				fmt.Fprintf(&screen, "          (service level and abandoned over the last %s, or since the board started)\n", *window)
			} else {
				fmt.Fprintf(&screen, "          (service level and abandoned since the collector started)\n")
			}
		}
		if *tail != "" {
			fmt.Fprintf(&screen, "\nLatest events and contact records (all of them: %s):\n", *tail)
			screen.Write(lastLines(*tail, *lines))
		}
		os.Stdout.Write(screen.Bytes())
		select {
		case <-ctx.Done():
			return
		case <-time.After(*every):
		}
	}
}

// scrapeAll adds up the boards of every endpoint; a board missing one collector's part
// would be wrong, so any failure shows none.
func scrapeAll(ctx context.Context, client *http.Client, urls []string) (*wallboard.Board, error) {
	var sum *wallboard.Board
	for _, url := range urls {
		url = strings.TrimSpace(url)
		b, err := scrape(ctx, client, url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		if sum == nil {
			sum = b
		} else {
			sum.Add(b)
		}
	}
	return sum, nil
}

func scrape(ctx context.Context, client *http.Client, url string) (*wallboard.Board, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return wallboard.Parse(resp.Body)
}

// lastLines returns the n last agent events, contact events and contact records of a
// debug exporter's output, one short line each, read from the file's last 256 KiB.
func lastLines(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return []byte("  (none yet)\n")
	}
	defer f.Close()
	const window = 256 << 10
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(st.Size()-window, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil
	}
	var events []string
	for line := range strings.SplitSeq(string(buf), "\n") {
		if ev, ok := wallboard.EventLine(line); ok {
			events = append(events, ev)
		}
	}
	if len(events) > n {
		events = events[len(events)-n:]
	}
	var out bytes.Buffer
	for _, ev := range events {
		out.WriteString("  " + ev + "\n")
	}
	return out.Bytes()
}

// recent keeps the boards of the last window, to count the queues' counters over it.
type recent struct {
	boards []timedBoard
}

type timedBoard struct {
	at    time.Time
	board *wallboard.Board
}

// since records b and returns it counted from the oldest board within window of now.
func (r *recent) since(now time.Time, b *wallboard.Board, window time.Duration) *wallboard.Board {
	if window <= 0 {
		return b
	}
	r.boards = append(r.boards, timedBoard{now, b})
	for len(r.boards) > 1 && now.Sub(r.boards[0].at) > window {
		r.boards = r.boards[1:]
	}
	if len(r.boards) == 1 {
		return b // nothing older yet: since the collector started
	}
	return b.Since(r.boards[0].board)
}
