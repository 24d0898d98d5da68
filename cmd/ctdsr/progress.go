package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reportProgress shows a run's progress until ctx ends: a one-line bar
// redrawn on a terminal (carriage return, then erase the old line), or a structured log line every interval otherwise
// (cron). calls returns the API calls made so far.
func reportProgress(ctx context.Context, w io.Writer, tty bool, log *slog.Logger, p *batch.Progress, calls func() int64, every time.Duration) {
	start := time.Now()
	if tty {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintf(w, "\r\x1b[K%s\n", progressLine(p, calls(), time.Since(start)))
			}
			return
		case <-t.C:
		}
		if tty {
			fmt.Fprintf(w, "\r\x1b[K%s", progressLine(p, calls(), time.Since(start)))
			continue
		}
		log.Info("progress",
			"finished", p.Finished.Load(), "total", p.Total.Load(),
			"awaiting_verification", p.Pending.Load(), "failed_attempts", p.Failed.Load(),
			"api_calls", calls(), "elapsed", time.Since(start).Round(time.Second).String())
	}
}

// progressLine renders "[#####     ] 120/2000 rows  14.2 calls/s  ETA 2m10s".
func progressLine(p *batch.Progress, calls int64, elapsed time.Duration) string {
	total, done := p.Total.Load(), p.Finished.Load()
	const width = 24
	filled := 0
	if total > 0 {
		filled = int(min(done, total) * width / total)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(calls) / s
	}
	eta := "--"
	if done > 0 && done < total {
		eta = (time.Duration(float64(elapsed) / float64(done) * float64(total-done))).Round(time.Second).String()
	}
	line := fmt.Sprintf("[%s%s] %d/%d rows  %.1f calls/s  ETA %s",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total, rate, eta)
	if n := p.Pending.Load(); n > 0 {
		line += fmt.Sprintf("  %d awaiting verification", n)
	}
	return line
}
