package logs

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/simstate"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// BenchmarkLogs100k prints the 100,000 records of an initial cycle: as
// JSON (streamed from the stored documents), as the piped table and as
// the three CSV files.
func BenchmarkLogs100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "state.db")
	db, err := simstate.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := provlog.NewStore(db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := readFixture(b)
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for i := range 100_000 {
		r := recs[i%len(recs)]
		r.CycleID, r.ID, r.ChangeID = "initial", fmt.Sprintf("r%07d", i), fmt.Sprintf("c%07d", i)
		r.ActivityDateTime = start.Add(time.Duration(i) * time.Millisecond)
		if err := s.Add(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		format render.Format
		file   string
	}{{"json", render.FormatJSON, ""}, {"table", render.FormatTable, ""}, {"csv", render.FormatTable, FileCSV}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				ios, _, _, _ := iostreams.Test()
				ios.Out, ios.ErrOut = io.Discard, io.Discard
				opts := &Options{IO: ios, Format: tc.format, File: tc.file, Out: b.TempDir(), Store: s, StatePath: path}
				if err := logsRun(context.Background(), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
