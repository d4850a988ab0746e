package loader

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports the load to a person: a live bar on a terminal, one line
// at the end elsewhere, nothing for a nil writer. It is used by the loading
// goroutine only.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		return &progress{}
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{w: w}
	}
	// The total is unknown: src is any reader, and rows may be rejected.
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("producing bookings"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
	)
	return &progress{w: w, bar: bar}
}

// update shows that acked records are acknowledged so far.
func (p *progress) update(acked int64) {
	if p.bar != nil {
		_ = p.bar.Set64(acked) // the error is the writer's; a bar is not worth failing for
	}
}

// finish ends the bar or prints the summary line.
func (p *progress) finish(res Result) {
	if p.w == nil {
		return
	}
	if p.bar != nil {
		// The finished bar shows the count and the rate already.
		_ = p.bar.Set64(res.Produced)
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "produced %d bookings (%d rejected) in %s: %.0f records/s\n",
		res.Produced, res.Rejected, res.Elapsed.Round(time.Millisecond),
		float64(res.Produced)/res.Elapsed.Seconds())
}
