package iostreams

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress is a progress bar on stderr for long runs (replay). It is drawn
// only when stderr is a terminal (DESIGN §1.2); otherwise every method does
// nothing, so callers need not check. It is safe for concurrent use.
//
// The bar is github.com/schollz/progressbar/v3: it handles throttled
// redraws, rate and remaining-time estimates and clearing the line when
// done, which a hand-made "\r" line would have to reimplement.
type Progress struct {
	bar *progressbar.ProgressBar
	w   io.Writer
	mu  sync.Mutex // orders Println against the bar's redraws
}

// NewProgress starts a bar counting to total items, with a description
// ("replay") and the rate shown per unit ("req").
func (s *IOStreams) NewProgress(total int, description, unit string) *Progress {
	if !s.stderrTTY || total <= 0 {
		return &Progress{}
	}
	width := 30
	if w := s.TerminalWidth(); w < 80 {
		width = max(10, w-50)
	}
	return &Progress{w: s.ErrOut, bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(s.ErrOut),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(width),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionEnableColorCodes(false),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// Add advances the bar by n items.
func (p *Progress) Add(n int) {
	if p.bar != nil {
		p.mu.Lock()
		_ = p.bar.Add(n)
		p.mu.Unlock()
	}
}

// Println prints a line above the bar (simulate's live line per
// object): the bar is cleared, the line written, the bar drawn again.
// Without a bar it does nothing: live lines are for terminals only.
func (p *Progress) Println(line string) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Clear()
	fmt.Fprintln(p.w, line)
	_ = p.bar.RenderBlank()
}

// Active reports whether a bar is drawn.
func (p *Progress) Active() bool { return p.bar != nil }

// Done removes the bar, so that what follows starts on a clean line.
func (p *Progress) Done() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
	}
}
