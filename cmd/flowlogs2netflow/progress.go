package main

import (
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
)

// progress wraps a progress bar over the input bytes read.
type progress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func newProgress(mode string, w io.Writer, inputs []pipeline.Input) *progress {
	if mode == "never" {
		return nil
	}
	f, isFile := w.(*os.File)
	if mode == "auto" && (!isFile || !term.IsTerminal(int(f.Fd()))) {
		return nil
	}
	var total int64
	for _, in := range inputs {
		if st, err := os.Stat(in.Name); err == nil {
			total += st.Size()
		}
	}
	if total == 0 {
		total = -1
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("exporting"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p *progress) add(n int64) {
	p.mu.Lock()
	p.bar.Add64(n)
	p.mu.Unlock()
}

func (p *progress) finish() {
	if p != nil {
		p.bar.Finish()
	}
}
