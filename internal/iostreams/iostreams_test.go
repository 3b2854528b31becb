package iostreams

import (
	"strings"
	"testing"
)

func TestTerminalWidth(t *testing.T) {
	detected := func(w int, ok bool) func() (int, bool) { return func() (int, bool) { return w, ok } }
	tests := []struct {
		name    string
		columns string
		detect  func() (int, bool)
		want    int
	}{
		{"detected", "", detected(132, true), 132},
		{"COLUMNS overrides detection", "100", detected(132, true), 100},
		{"COLUMNS wider than the terminal", "250", detected(132, true), 250},
		{"COLUMNS with spaces", " 90 ", detected(132, true), 90},
		{"COLUMNS not a number: detection", "wide", detected(132, true), 132},
		{"COLUMNS zero: detection", "0", detected(132, true), 132},
		{"COLUMNS negative: detection", "-5", detected(132, true), 132},
		{"no terminal to ask", "", detected(0, false), DefaultWidth},
		{"no terminal, COLUMNS", "120", detected(0, false), 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := System(func(k string) string {
				if k == "COLUMNS" {
					return tt.columns
				}
				return ""
			})
			s.detectWidth = tt.detect
			if got := s.TerminalWidth(); got != tt.want {
				t.Errorf("TerminalWidth() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTestStreamsWidth(t *testing.T) {
	s, _, _, _ := Test()
	if got := s.TerminalWidth(); got != DefaultWidth {
		t.Errorf("Test streams: %d columns, want %d", got, DefaultWidth)
	}
	s.SetTerminalWidth(160)
	if got := s.TerminalWidth(); got != 160 {
		t.Errorf("after SetTerminalWidth(160): %d", got)
	}
	s.SetTerminalWidth(0)
	if got := s.TerminalWidth(); got != DefaultWidth {
		t.Errorf("after SetTerminalWidth(0): %d, want the default", got)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	s, _, _, errOut := Test()
	p := s.NewProgress(10, "replay", "req")
	p.Add(5)
	p.Done()
	if errOut.Len() != 0 {
		t.Errorf("progress drawn on a pipe: %q", errOut)
	}
	s.SetStderrTTY(true)
	p = s.NewProgress(10, "replay", "req")
	p.Add(10)
	p.Done()
	if !strings.Contains(errOut.String(), "replay") {
		t.Errorf("no bar on a terminal: %q", errOut)
	}
}
