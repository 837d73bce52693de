package replay

import (
	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
)

// prefetchBatch is how many events the prefetcher hands over at a time.
const prefetchBatch = 256

// prefetcher reads and decodes a trace on its own goroutine, so that
// decompression does not hold up the ptrace thread (which shares its CPU
// with the target), and hands its events over in batches. It starts on the
// first next; close stops it.
type prefetcher struct {
	r        *format.Reader
	ch       chan []*tracepb.Event
	quit     chan struct{}
	closed   bool
	batch    []*tracepb.Event
	pos      int
	eof      bool
	complete bool // at eof: the trace was complete
}

// next returns the trace's next event; false at its end.
func (p *prefetcher) next() (*tracepb.Event, bool) {
	if p.eof {
		return nil, false
	}
	for p.pos >= len(p.batch) {
		if p.ch == nil {
			p.start()
		}
		b, ok := <-p.ch
		if !ok {
			// The goroutine is done with the reader.
			p.eof = true
			_, _, p.complete = p.r.Recovered()
			return nil, false
		}
		p.batch, p.pos = b, 0
	}
	ev := p.batch[p.pos]
	p.batch[p.pos] = nil
	p.pos++
	return ev, true
}

func (p *prefetcher) start() {
	p.ch = make(chan []*tracepb.Event, 8)
	p.quit = make(chan struct{})
	go func() {
		defer close(p.ch)
		for {
			select {
			case <-p.quit:
				return
			default:
			}
			b := make([]*tracepb.Event, 0, prefetchBatch)
			for len(b) < prefetchBatch {
				ev, err := p.r.Next()
				if err != nil {
					break
				}
				b = append(b, ev)
			}
			if len(b) == 0 {
				return
			}
			select {
			case p.ch <- b:
			case <-p.quit:
				return
			}
			if len(b) < prefetchBatch {
				return
			}
		}
	}()
}

// close stops reading ahead; next returns nothing new after it.
func (p *prefetcher) close() {
	if p.quit != nil && !p.closed {
		p.closed = true
		close(p.quit)
		for range p.ch {
		}
	}
}
