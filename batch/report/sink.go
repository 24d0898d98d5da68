package report

import (
	"context"
	"sync/atomic"
)

// sinkBatch is how many rows the owner goroutine hands to the writer at once.
const sinkBatch = 256

// Sink owns a Writer from one goroutine so that many goroutines can add
// rows to one file: they Send, the Sink writes. Send must not be called
// after or concurrently with Close or Abort.
type Sink[T any] struct {
	w      *Writer[T]
	rows   chan T
	done   chan struct{}
	failed atomic.Pointer[error]
}

// NewSink starts the goroutine that owns w. buffer is how many rows may wait
// for it.
func NewSink[T any](w *Writer[T], buffer int) *Sink[T] {
	s := &Sink[T]{w: w, rows: make(chan T, max(buffer, 1)), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *Sink[T]) run() {
	defer close(s.done)
	batch := make([]T, 0, sinkBatch)
	flush := func() {
		if len(batch) > 0 && s.failed.Load() == nil {
			if err := s.w.Write(batch...); err != nil {
				s.failed.Store(&err)
			}
		}
		clear(batch) // drop references held by the rows
		batch = batch[:0]
	}
	for row := range s.rows {
		batch = append(batch, row)
		if len(batch) == cap(batch) || len(s.rows) == 0 {
			flush()
		}
	}
	flush()
}

// Send queues row for writing. It returns the context's error if ctx ends
// first, and the writer's error once a write has failed.
func (s *Sink[T]) Send(ctx context.Context, row T) error {
	if err := s.failed.Load(); err != nil {
		return *err
	}
	select {
	case s.rows <- row:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and publishes the file (Writer.Close). If a
// write failed, the file is discarded and that error returned.
func (s *Sink[T]) Close() error {
	close(s.rows)
	<-s.done
	if err := s.failed.Load(); err != nil {
		s.w.Abort()
		return *err
	}
	return s.w.Close()
}

// Abort stops the Sink and discards the file.
func (s *Sink[T]) Abort() error {
	close(s.rows)
	<-s.done
	return s.w.Abort()
}
