package perfetto

import (
	"io"
	"os"
	"testing"

	"github.com/hermes-trace/hermes/format"
)

// BenchmarkExport converts the trace named by $HERMES_BENCH_TRACE (a
// recording of testdata/c/loop.c, say) to io.Discard; BenchmarkRead only
// reads it, for comparison (BenchmarkReadStreaming as Export reads).
func BenchmarkExport(b *testing.B)         { benchTrace(b, true, false, false) }
func BenchmarkExportParallel(b *testing.B) { benchTrace(b, true, true, false) }
func BenchmarkRead(b *testing.B)           { benchTrace(b, false, false, false) }
func BenchmarkReadStreaming(b *testing.B)  { benchTrace(b, false, false, true) }

func benchTrace(b *testing.B, export, parallel, streaming bool) {
	path := os.Getenv("HERMES_BENCH_TRACE")
	if path == "" {
		b.Skip("HERMES_BENCH_TRACE not set")
	}
	for b.Loop() {
		r, err := format.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if export {
			var o *Options
			if parallel {
				o = &Options{Open: func() (*format.Reader, error) { return format.Open(path) }}
			}
			_, err = Export(io.Discard, r, o)
		} else {
			r.SetStreaming(streaming)
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF {
				err = nil
			}
		}
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
